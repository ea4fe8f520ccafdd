"""Erasure in the activation state: the destinations are told to remove the person, and Kith keeps
only what that message needs, until it is acknowledged.

For every audience and destination that holds the person (``sync_state``) or may hold them (an
unacknowledged change in ``sync_outbox``), the outbox gets a ``remove`` whose payload is reduced to
the customer id and the identifiers the destination is keyed by (email, phone or their hashes): no
attribute survives. The stored state and the control-group assignment are deleted at once. The next
``kith activate`` sends the removes (the person is no longer in any audience, and the plan keeps a
queued remove's own payload); the acknowledgement deletes the outbox row, the last trace.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import duckdb

from pipelines.activation.config import HASHED_NAMES, IDENTIFIERS
from pipelines.activation.state import SCHEMA

# Payload keys a destination may be keyed by; everything else in a payload is an attribute.
KEY_FIELDS = ("customer_id", *IDENTIFIERS, *HASHED_NAMES.values())


def has_activation_state(con: duckdb.DuckDBPyConnection) -> bool:
    (n,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = 'sync_state'",
        [SCHEMA],
    ).fetchone()
    return bool(n)


def queue_removals(con: duckdb.DuckDBPyConnection, erasure_id: str, now: datetime) -> dict[str, int]:
    """Queue removes for the customers in the temp table ``_forget_customers``; purge their state.

    Returns rows changed per activation table (removes queued under ``sync_outbox``).
    """
    if not has_activation_state(con):
        return {}
    held = con.execute(
        f"""
        with held as (
            select audience, destination, customer_id, payload, 1 as preference
            from {SCHEMA}.sync_outbox
            where customer_id in (select customer_id from _forget_customers) and change_type <> 'remove'
            union all
            select audience, destination, customer_id, payload, 2
            from {SCHEMA}.sync_state
            where customer_id in (select customer_id from _forget_customers)
            union all
            select audience, destination, customer_id, payload, 3
            from {SCHEMA}.sync_outbox
            where customer_id in (select customer_id from _forget_customers) and change_type = 'remove'
        )
        select audience, destination, customer_id, payload
        from held
        qualify row_number() over (partition by audience, destination, customer_id order by preference) = 1
        """
    ).fetchall()
    removals = [
        (audience, destination, customer_id, minimal_payload(payload))
        for audience, destination, customer_id, payload in held
    ]
    counts = {}
    (counts["sync_state"],) = con.execute(
        f"delete from {SCHEMA}.sync_state where customer_id in (select customer_id from _forget_customers)"
    ).fetchone()
    con.execute(
        f"""
        delete from {SCHEMA}.sync_outbox
        where customer_id in (select customer_id from _forget_customers)
        """
    )
    for audience, destination, customer_id, payload in removals:
        key = hashlib.sha256("|".join((audience, destination, customer_id, "remove", erasure_id)).encode()).hexdigest()
        con.execute(
            f"insert into {SCHEMA}.sync_outbox values (?, ?, ?, 'remove', null, ?, ?, ?, ?)",
            [audience, destination, customer_id, payload, key, f"erasure:{erasure_id}", now],
        )
    counts["sync_outbox"] = len(removals)
    (counts["audience_assignments"],) = con.execute(
        f"delete from {SCHEMA}.audience_assignments where customer_id in (select customer_id from _forget_customers)"
    ).fetchone()
    return counts


def minimal_payload(payload: str) -> str:
    """The customer id and the identifiers a destination is keyed by, nothing else."""
    document = json.loads(payload) if payload else {}
    return json.dumps({k: v for k, v in document.items() if k in KEY_FIELDS and v is not None}, sort_keys=True)


def pending_removals(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(audience, destination, removes) queued by erasures and not acknowledged yet."""
    if not has_activation_state(con):
        return []
    return con.execute(
        f"""
        select audience, destination, count(*) from {SCHEMA}.sync_outbox
        where starts_with(sync_id, 'erasure:') group by 1, 2 order by 1, 2
        """
    ).fetchall()
