"""Sync state in the warehouse (schema ``activation``), written by Python and never touched by dbt.

- ``sync_state``: what each destination has acknowledged, one row per audience, destination and
  customer, with the payload sent and its content hash. A sync sends the difference between the
  audience (after consent and the control group) and this table.
- ``sync_outbox``: changes planned by a sync and not acknowledged yet. A change leaves it, and enters
  ``sync_state``, in the same transaction as the destination's acknowledgement; what a crash or a
  failure leaves behind is resent by the next sync (with the same idempotency key when the change is
  the same, so an HTTP destination that had applied it drops it).
- ``sync_history``: one row per sync, audience and destination: counts, status, error, target.
- ``audience_assignments``: treatment or control per audience and customer, fixed when the customer
  is first seen in the audience (for ``kith evaluate campaign``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

SCHEMA = "activation"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.audience_assignments (
    audience varchar not null,
    customer_id varchar not null,
    assignment_group varchar not null check (assignment_group in ('treatment', 'control')),
    control_share double not null,
    first_assigned_at timestamp not null,
    primary key (audience, customer_id)
);
create table if not exists {SCHEMA}.sync_state (
    audience varchar not null,
    destination varchar not null,
    customer_id varchar not null,
    content_hash varchar not null,
    payload varchar not null,
    idempotency_key varchar not null,
    sync_id varchar not null,
    synced_at timestamp not null,
    primary key (audience, destination, customer_id)
);
create table if not exists {SCHEMA}.sync_outbox (
    audience varchar not null,
    destination varchar not null,
    customer_id varchar not null,
    change_type varchar not null check (change_type in ('add', 'update', 'remove')),
    content_hash varchar,
    payload varchar not null,
    idempotency_key varchar not null,
    sync_id varchar not null,
    planned_at timestamp not null,
    primary key (audience, destination, customer_id)
);
create table if not exists {SCHEMA}.sync_history (
    sync_id varchar not null,
    audience varchar not null,
    destination varchar not null,
    destination_kind varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    members integer not null,
    held_out integer not null,
    no_consent integer not null,
    no_identifier integer not null,
    desired integer not null,
    adds integer not null,
    updates integer not null,
    removes integer not null,
    acknowledged integer not null,
    status varchar not null,
    error varchar,
    target varchar,
    delivery_seconds double,
    primary key (sync_id, audience, destination)
);
"""

STATUSES = ("running", "success", "failed", "timeout", "skipped", "interrupted")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def mark_interrupted(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Syncs still 'running' were cut short (a crash, a kill): the warehouse lock says none is running now."""
    rows = con.execute(
        f"update {SCHEMA}.sync_history set status = 'interrupted', finished_at = ? where status = 'running' "
        "returning sync_id",
        [now],
    ).fetchall()
    return len(rows)


@dataclass
class PairResult:
    """What happened to one audience at one destination in one sync."""

    audience: str
    destination: str
    kind: str
    members: int = 0
    held_out: int = 0
    no_consent: int = 0
    no_identifier: int = 0
    desired: int = 0
    adds: int = 0
    updates: int = 0
    removes: int = 0
    acknowledged: int = 0
    status: str = "running"
    error: str | None = None
    target: str = ""
    seconds: float | None = None  # delivering, when something was sent
    ack_keys: set[str] = field(default_factory=set, repr=False)

    @property
    def changes(self) -> int:
        return self.adds + self.updates + self.removes


class Acknowledger:
    """Moves acknowledged changes from the outbox to the state, one transaction per acknowledgement.

    Destinations deliver on their own threads; this is the one place they write the warehouse, on one
    cursor behind a lock. After :meth:`close_pair` (a destination that overran its timeout) late
    acknowledgements are ignored: the changes stay in the outbox and the next sync resends them.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._cursor = con.cursor()
        self._lock = threading.Lock()
        self._closed: set[tuple[str, str]] = set()

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def acknowledge(self, result: PairResult, keys: Sequence[str], now: datetime) -> int:
        """Record that the destination applied the changes with these idempotency keys."""
        keys = [k for k in keys if k not in result.ack_keys]
        if not keys:
            return 0
        with self._lock:
            if (result.audience, result.destination) in self._closed:
                return 0
            pair = [result.audience, result.destination]
            cur = self._cursor
            cur.execute("begin transaction")
            try:
                cur.execute(
                    f"""
                    create or replace temp table _acknowledged as
                    select * from {SCHEMA}.sync_outbox
                    where audience = ? and destination = ? and idempotency_key in (select unnest(?::varchar[]))
                    """,
                    [*pair, keys],
                )
                cur.execute(
                    f"""
                    delete from {SCHEMA}.sync_state
                    where audience = ? and destination = ?
                        and customer_id in (select customer_id from _acknowledged)
                    """,
                    pair,
                )
                cur.execute(
                    f"""
                    insert into {SCHEMA}.sync_state
                    select audience, destination, customer_id, content_hash, payload, idempotency_key, sync_id, ?
                    from _acknowledged
                    where change_type <> 'remove'
                    """,
                    [now],
                )
                cur.execute(
                    f"""
                    delete from {SCHEMA}.sync_outbox
                    where audience = ? and destination = ?
                        and idempotency_key in (select idempotency_key from _acknowledged)
                    """,
                    pair,
                )
                done = cur.execute("select count(*) from _acknowledged").fetchone()[0]
                cur.execute("commit")
            except BaseException:
                cur.execute("rollback")
                raise
            result.ack_keys.update(keys)
            result.acknowledged += done
            return done

    def close_pair(self, result: PairResult) -> None:
        with self._lock:
            self._closed.add((result.audience, result.destination))

    def close(self) -> None:
        with self._lock:
            self._cursor.close()


def record_planned(con: duckdb.DuckDBPyConnection, sync_id: str, result: PairResult, started_at: datetime) -> None:
    con.execute(
        f"insert into {SCHEMA}.sync_history values (?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, null)",
        [
            sync_id,
            result.audience,
            result.destination,
            result.kind,
            started_at,
            result.members,
            result.held_out,
            result.no_consent,
            result.no_identifier,
            result.desired,
            result.adds,
            result.updates,
            result.removes,
            result.status,
            result.error,
            result.target,
        ],
    )


def record_finished(con: duckdb.DuckDBPyConnection, sync_id: str, result: PairResult, finished_at: datetime) -> None:
    con.execute(
        f"""
        update {SCHEMA}.sync_history
        set finished_at = ?, acknowledged = ?, status = ?, error = ?, target = ?, delivery_seconds = ?
        where sync_id = ? and audience = ? and destination = ?
        """,
        [
            finished_at,
            result.acknowledged,
            result.status,
            result.error,
            result.target,
            result.seconds,
            sync_id,
            result.audience,
            result.destination,
        ],
    )
