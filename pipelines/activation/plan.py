"""What a sync sends: audience members, minus the control group and missing consent, diffed with the state.

Everything here is DuckDB SQL on the warehouse (no Python loops over members):

1. :func:`discover_audiences` finds the audience marts (``marts.aud_<name>``) and
   :func:`check_audience` holds them to their contract (``customer_id`` unique and not null,
   ``email``, ``phone_e164``, ``audience_reason``; any other column is an attribute).
2. :func:`assign_groups` puts each customer seen for the first time in an audience into treatment or
   control, by a hash of (audience, customer) against the audience's control share, and records it:
   stable across syncs, and the control group is never sent anywhere.
3. :func:`plan_changes` keeps the members a destination may receive (consent granted for each of its
   (channel, purpose) at the time of the sync, at least one of its identifiers), shapes the payload
   (identifiers hashed for ad platforms, the chosen attributes), hashes it, and compares it with
   ``sync_state`` and any unacknowledged ``sync_outbox`` rows: adds, updates (content hash changed)
   and removes. The plan replaces the outbox for that audience and destination.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from kith.config import UserError
from pipelines.activation.config import IDENTIFIERS, Destination
from pipelines.activation.consent import consented_customers_sql
from pipelines.activation.state import SCHEMA, PairResult

AUDIENCE_SCHEMA = "marts"
AUDIENCE_PREFIX = "aud_"
REQUIRED_COLUMNS = ("customer_id", "email", "phone_e164", "audience_reason")
# Columns every delivery carries besides the payload.
META_COLUMNS = ("kith_change", "kith_idempotency_key", "kith_sync_id", "kith_synced_at")


@dataclass(frozen=True)
class Audience:
    name: str  # without the aud_ prefix
    columns: tuple[tuple[str, str], ...]  # (column, DuckDB type) in table order

    @property
    def relation(self) -> str:
        return f"{AUDIENCE_SCHEMA}.{quote(AUDIENCE_PREFIX + self.name)}"

    @property
    def display(self) -> str:
        return f"{AUDIENCE_SCHEMA}.{AUDIENCE_PREFIX}{self.name}"

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns if c not in ("customer_id", *IDENTIFIERS))


def bind(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Execute with the named parameters the statement uses (DuckDB refuses unused ones)."""
    return con.execute(sql, _used(sql, params))


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    names = set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql))
    return {k: v for k, v in params.items() if k in names}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def discover_audiences(con: duckdb.DuckDBPyConnection) -> dict[str, Audience]:
    """Every ``marts.aud_<name>`` table or view, by name without the prefix."""
    rows = con.execute(
        """
        select table_name, column_name, data_type
        from information_schema.columns
        where table_schema = $schema and starts_with(table_name, $prefix)
        order by table_name, ordinal_position
        """,
        {"schema": AUDIENCE_SCHEMA, "prefix": AUDIENCE_PREFIX},
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        columns.setdefault(table.removeprefix(AUDIENCE_PREFIX), []).append((column, data_type))
    return {name: Audience(name, tuple(cols)) for name, cols in sorted(columns.items())}


def check_audience(con: duckdb.DuckDBPyConnection, audience: Audience) -> None:
    """The audience contract; a broken one stops the sync before anything is sent."""
    names = [c for c, _ in audience.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise UserError(f"{audience.display} lacks the audience column(s) {', '.join(missing)}")
    reserved = [c for c in names if c.startswith("kith_") or c in ("email_sha256", "phone_sha256")]
    if reserved:
        raise UserError(f"{audience.display}: column name(s) {', '.join(reserved)} are reserved for activation")
    duplicated, null_ids = con.execute(
        f"select count(customer_id) - count(distinct customer_id), count(*) - count(customer_id) "
        f"from {audience.relation}"
    ).fetchone()
    if duplicated or null_ids:
        raise UserError(
            f"{audience.display} must hold one row per customer: {duplicated} duplicated and {null_ids} null "
            "customer_id(s)"
        )


def assign_groups(con: duckdb.DuckDBPyConnection, audience: Audience, control_share: float, now: datetime) -> int:
    """Assign newcomers to treatment or control; earlier assignments never change. Returns newcomers."""
    # 52 bits of SHA-256 (exact in a double) as a uniform number in [0, 1)
    return con.execute(
        f"""
        insert into {SCHEMA}.audience_assignments
        select
            $audience as audience,
            members.customer_id,
            case
                when ('0x' || left(sha256($audience || ':' || members.customer_id), 13))::ubigint / 2 ** 52
                    < $share then 'control'
                else 'treatment'
            end as assignment_group,
            $share as control_share,
            $now as first_assigned_at
        from {audience.relation} as members
        where not exists (
            select 1 from {SCHEMA}.audience_assignments as assigned
            where assigned.audience = $audience and assigned.customer_id = members.customer_id
        )
        """,
        {"audience": audience.name, "share": control_share, "now": now},
    ).fetchone()[0]


def payload_columns(audience: Audience, destination: Destination) -> list[tuple[str, str]]:
    """(payload column, SQL over the audience row) in order: customer_id, identifiers, attributes."""
    columns = [("customer_id", "customer_id")]
    for identifier in destination.identifiers:
        if destination.hash_identifiers:
            normalised = "lower(trim(email))" if identifier == "email" else "trim(phone_e164)"
            columns.append((destination.payload_identifier(identifier), f"sha256(nullif({normalised}, ''))"))
        else:
            columns.append((identifier, quote(identifier)))
    wanted = audience.attributes if destination.attributes is None else destination.attributes
    columns += [(a, quote(a)) for a in audience.attributes if a in wanted]
    return columns


def temp_tables(index: int) -> tuple[str, str]:
    """The temp tables of one audience x destination: classified members with payload, and changes."""
    return f"_desired_{index}", f"_plan_{index}"


def plan_changes(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    destination: Destination,
    consent_periods: str,
    result: PairResult,
    sync_id: str,
    now: datetime,
    index: int,
    *,
    record: bool = True,
) -> str:
    """Compute the changes for one audience and destination into a temp table; fill the counts in ``result``.

    With ``record``, the new changes replace the destination's outbox for this audience. Returns the
    name of the temp table of changes (see :func:`delivery_rows`).
    """
    desired, plan = temp_tables(index)
    params = {"audience": audience.name, "destination": destination.name, "sync_id": sync_id, "now": now}
    consent_ctes, consent_checks = [], []
    for i, consent in enumerate(destination.consents):
        sql, consent_params = consented_customers_sql(consent_periods, consent, now, f"c{i}")
        consent_ctes.append(f"consented_{i} as ({sql})")
        consent_checks.append(
            f"when not exists (select 1 from consented_{i} where consented_{i}.customer_id = members.customer_id) "
            "then 'no_consent'"
        )
        params.update(consent_params)
    identifier_present = " or ".join(f"nullif(trim({quote(i)}), '') is not null" for i in destination.identifiers)
    columns = payload_columns(audience, destination)
    with_clause = "with " + ", ".join(consent_ctes) + "," if consent_ctes else "with"
    bind(
        con,
        f"""
        create or replace temp table {desired} as
        {with_clause}
        classified as (
            select
                members.*,
                case
                    when assigned.assignment_group = 'control' then 'held_out'
                    {" ".join(consent_checks)}
                    when not ({identifier_present}) then 'no_identifier'
                    else 'send'
                end as kith_outcome
            from {audience.relation} as members
            inner join {SCHEMA}.audience_assignments as assigned
                on assigned.audience = $audience and assigned.customer_id = members.customer_id
        )
        select
            kith_outcome,
            {", ".join(f"{sql} as {quote(name)}" for name, sql in columns)}
        from classified
        """,
        params,
    )
    counts = dict(con.execute(f"select kith_outcome, count(*) from {desired} group by 1").fetchall())
    result.members = sum(counts.values())
    result.held_out = counts.get("held_out", 0)
    result.no_consent = counts.get("no_consent", 0)
    result.no_identifier = counts.get("no_identifier", 0)
    result.desired = counts.get("send", 0)

    struct = ", ".join(f"{quote(name)} := {quote(name)}" for name, _ in columns)
    bind(
        con,
        f"""
        create or replace temp table {plan} as
        with desired as (
            select customer_id, to_json(struct_pack({struct}))::varchar as payload
            from {desired}
            where kith_outcome = 'send'
        ),
        hashed as (
            select customer_id, payload, sha256(payload) as content_hash from desired
        ),
        delivered as (
            select customer_id, content_hash, payload
            from {SCHEMA}.sync_state
            where audience = $audience and destination = $destination
        ),
        pending as (
            select customer_id, change_type, content_hash, payload, idempotency_key
            from {SCHEMA}.sync_outbox
            where audience = $audience and destination = $destination
        ),
        compared as (
            select
                coalesce(hashed.customer_id, delivered.customer_id, pending.customer_id) as customer_id,
                -- an unacknowledged change may or may not have been applied: resend the wanted state
                case
                    when hashed.customer_id is not null
                        and (delivered.customer_id is null or pending.change_type = 'remove') then 'add'
                    when hashed.customer_id is not null
                        and (pending.customer_id is not null or delivered.content_hash <> hashed.content_hash)
                        then 'update'
                    when hashed.customer_id is null
                        and (delivered.customer_id is not null or pending.customer_id is not null) then 'remove'
                end as change_type,
                hashed.content_hash,
                -- a remove queued by an erasure (kith forget) has no state left: its own payload
                -- (the identifiers the destination needs to find the person) is all there is
                coalesce(
                    hashed.payload,
                    case when pending.change_type <> 'remove' then pending.payload end,
                    delivered.payload,
                    pending.payload
                ) as payload,
                pending.change_type as pending_change_type,
                pending.content_hash as pending_content_hash,
                pending.idempotency_key as pending_idempotency_key
            from hashed
            full outer join delivered on delivered.customer_id = hashed.customer_id
            full outer join pending on pending.customer_id = coalesce(hashed.customer_id, delivered.customer_id)
        )
        select
            customer_id,
            change_type,
            content_hash,
            payload,
            -- the same change keeps its key until acknowledged; a new change gets a new one
            case
                when pending_change_type = change_type and pending_content_hash is not distinct from content_hash
                    then pending_idempotency_key
                else sha256(concat_ws(
                    '|', $audience, $destination, customer_id, change_type, coalesce(content_hash, ''), $sync_id
                ))
            end as idempotency_key
        from compared
        where change_type is not null
        """,
        params,
    )
    changes = dict(con.execute(f"select change_type, count(*) from {plan} group by 1").fetchall())
    result.adds, result.updates, result.removes = (changes.get(c, 0) for c in ("add", "update", "remove"))

    if not record:
        return plan
    pair = {"audience": audience.name, "destination": destination.name}
    con.execute(f"delete from {SCHEMA}.sync_outbox where audience = $audience and destination = $destination", pair)
    bind(
        con,
        f"""
        insert into {SCHEMA}.sync_outbox
        select $audience, $destination, customer_id, change_type, content_hash, payload, idempotency_key, $sync_id, $now
        from {plan}
        """,
        params,
    )
    return plan


def delivery_rows(
    con: duckdb.DuckDBPyConnection,
    audience: Audience,
    destination: Destination,
    plan: str,
    sync_id: str,
    now: datetime,
) -> pa.Table:
    """The changes to send, typed: metadata columns, then the payload.

    Adds and updates carry the whole payload; removes carry the customer id and the identifiers last
    sent (so a tool keyed by email or hashed email can remove them too), attributes null.
    """
    desired = temp_tables(int(plan.rpartition("_")[2]))[0]
    columns = payload_columns(audience, destination)
    select = []
    for name, _ in columns:
        if name == "customer_id":
            select.append("plan.customer_id")
        elif name in audience.attributes:
            select.append(f"{desired}.{quote(name)}")
        else:  # an identifier: from the payload last sent when removed
            select.append(
                f"coalesce({desired}.{quote(name)}, json_extract_string(plan.payload, $path_{name})) as {quote(name)}"
            )
    paths = {f"path_{name}": f"$.{name}" for name, _ in columns}
    sql = f"""
        select
            plan.change_type as kith_change,
            plan.idempotency_key as kith_idempotency_key,
            $sync_id as kith_sync_id,
            $now as kith_synced_at,
            {", ".join(select)}
        from {plan} as plan
        left join {desired}
            on {desired}.customer_id = plan.customer_id and plan.change_type <> 'remove'
            and {desired}.kith_outcome = 'send'
        order by plan.customer_id
    """
    return con.sql(sql, params=_used(sql, {"sync_id": sync_id, "now": now, **paths})).to_arrow_table()
