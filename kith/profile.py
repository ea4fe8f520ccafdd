"""Customer profile lookup: the call-centre and in-store view of one customer.

``find_customers`` turns what a person types (an email, a phone number in any format, a loyalty
number, a CRM or shop id, a customer id) into customer ids, normalising it with the warehouse's own
SQL macros (schema ``functions``, created by the dbt build from the staging macros), so a lookup
matches exactly what the models stored. ``load_profile`` gathers the profile from the marts; parts
whose mart is not built (traits, scores, recommendations) are left out rather than failing.
Every value typed by a user reaches SQL as a bound parameter, never as SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

# identifier types a typed value may be, in the order tried; the SQL normalises the typed value
LOOKUPS: list[tuple[str, str]] = [
    ("email", "functions.canonical_email(?)"),
    ("phone", "functions.normalize_phone_e164(?)"),
    ("loyalty_number", "functions.normalize_loyalty_number(?)"),
    ("crm_id", "trim(?)"),
    ("shop_customer_id", "trim(?)"),
    ("card_token", "trim(?)"),
]

OPTIONAL_SECTIONS = {
    "traits": "dim_customer_traits",
    "scores": "dim_customer_scores",
    "recommendations": "fct_product_recommendations",
}


class ProfileNotFoundError(LookupError):
    """No customer matches the typed value; the message says what was searched."""


@dataclass(frozen=True)
class Match:
    customer_id: str
    matched_as: str
    matched_value: str


@dataclass
class Profile:
    customer: dict[str, Any]
    matched: Match
    source_systems: dict[str, int]
    identifiers: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    touchpoints: list[dict[str, Any]]
    order_summary: dict[str, Any]
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        return sorted(self.source_systems)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(found and found[0])


def find_customers(con: duckdb.DuckDBPyConnection, text: str) -> list[Match]:
    """Every customer the typed value identifies (usually one), with how it matched."""
    value = text.strip()
    if not value:
        raise ProfileNotFoundError("nothing to look up: give an email, phone, loyalty number or customer id")
    if not _has_table(con, "marts", "dim_customers"):
        raise ProfileNotFoundError("the warehouse has no marts.dim_customers yet: run `kith build` first")
    if value.lower().startswith("cus_"):
        rows = con.execute("select customer_id from marts.dim_customers where customer_id = ?", [value]).fetchall()
        return [Match(r[0], "customer_id", value) for r in rows]
    kinds = [k for k in LOOKUPS if ("@" in value) == (k[0] == "email")]
    matches: list[Match] = []
    for identifier_type, normalised in kinds:
        rows = con.execute(
            f"""
            select customer_id, identifier_value
            from marts.dim_customer_identifiers
            where identifier_type = ? and identifier_value = {normalised}
            """,
            [identifier_type, value],
        ).fetchall()
        matches += [Match(customer_id, identifier_type, found) for customer_id, found in rows]
    return matches


def explain_not_found(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """Why a typed value finds nobody: unknown, or known but excluded from identity (shared, junk)."""
    value = text.strip()
    if _has_table(con, "intermediate", "int_identity_nodes"):
        kinds = [k for k in LOOKUPS if ("@" in value) == (k[0] == "email")]
        for identifier_type, normalised in kinds:
            row = con.execute(
                f"""
                select exclusion_reason from intermediate.int_identity_nodes
                where identifier_type = ? and identifier_value = {normalised} and exclusion_reason is not null
                """,
                [identifier_type, value],
            ).fetchone()
            if row:
                return (
                    f"{identifier_type} {value!r} is known but identifies nobody on its own ({row[0]}): "
                    "look the customer up by another identifier"
                )
    searched = "customer id" if value.lower().startswith("cus_") else ", ".join(t for t, _ in kinds)
    return f"no customer found for {value!r} (searched as {searched})"


def load_profile(con: duckdb.DuckDBPyConnection, match: Match, *, orders: int = 5, touchpoints: int = 10) -> Profile:
    """The unified profile of one customer, read from the marts."""
    cid = [match.customer_id]
    customer = _rows(con, "select * from marts.dim_customers where customer_id = ?", cid)[0]
    identifiers = _rows(
        con,
        """
        select identifier_type, identifier_value, first_seen_at, last_seen_at, record_count
        from marts.dim_customer_identifiers where customer_id = ?
        order by identifier_type, first_seen_at, identifier_value
        """,
        cid,
    )
    systems = _rows(
        con,
        """
        select int_identifiers_unioned.source_system, count(distinct int_identifiers_unioned.record_id) as records
        from marts.dim_customer_identifiers
        inner join intermediate.int_identifiers_unioned
            on dim_customer_identifiers.identifier_type = int_identifiers_unioned.identifier_type
            and dim_customer_identifiers.identifier_value = int_identifiers_unioned.identifier_value
        where dim_customer_identifiers.customer_id = ?
        group by 1 order by 1
        """,
        cid,
    )
    consents = _rows(
        con,
        """
        select consent_channel, consent_purpose, is_granted, changed_at, source_system
        from marts.dim_customer_consents where customer_id = ? order by 1, 2
        """,
        cid,
    )
    recent_orders = _rows(
        con,
        f"""
        select order_id, ordered_at, order_channel, store_id, status, item_count, paid_amount,
            returned_quantity, net_amount, currency_code
        from marts.fct_orders where customer_id = ?
        order by ordered_at desc, order_id limit {int(orders)}
        """,
        cid,
    )
    summary = _rows(
        con,
        """
        select count(*) as orders, coalesce(sum(net_amount), 0) as net_spend,
            count(*) filter (where order_channel = 'online') as online_orders,
            count(*) filter (where order_channel = 'store') as store_orders,
            min(ordered_at) as first_order_at, max(ordered_at) as last_order_at
        from marts.fct_orders where customer_id = ? and not is_cancelled
        """,
        cid,
    )[0]
    recent_touchpoints = _rows(
        con,
        f"""
        select occurred_at, channel, touchpoint_type, coalesce(sku, page_path, store_id, order_id) as detail
        from marts.fct_touchpoints where customer_id = ?
        order by occurred_at desc, touchpoint_id limit {int(touchpoints)}
        """,
        cid,
    )
    profile = Profile(
        customer=customer,
        matched=match,
        source_systems={r["source_system"]: r["records"] for r in systems},
        identifiers=identifiers,
        consents=consents,
        orders=recent_orders,
        touchpoints=recent_touchpoints,
        order_summary=summary,
    )
    for section, table in OPTIONAL_SECTIONS.items():
        if not _has_table(con, "marts", table):
            continue
        rows = _rows(con, f"select * from marts.{table} where customer_id = ?", cid)
        if section == "recommendations":
            order_by = [c for c in ("recommendation_rank", "rank", "score") if rows and c in rows[0]]
            if order_by:
                rows.sort(key=lambda r: (r[order_by[0]] is None, r[order_by[0]]))
            profile.sections[section] = rows[:5]
        elif rows:
            profile.sections[section] = {k: v for k, v in rows[0].items() if k != "customer_id"}
    return profile
