"""Consent as of the time of a sync, read from the consent periods mart.

``marts.fct_customer_consent_periods`` holds, per customer, channel and purpose, non-overlapping
periods with ``is_granted``, ``valid_from`` and ``valid_to`` (null while current). A customer may
receive a destination's messages only if, for every (channel, purpose) the destination requires,
a granted period covers the sync time: ``valid_from <= sync time < valid_to``. No record means no
consent (opt-in), and a withdrawal (a period that is not granted, or a granted one that has ended)
takes the customer out at the next sync, which then sends a remove.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from kith.config import UserError
from pipelines.activation.config import Consent

CONSENT_COLUMNS = ("customer_id", "consent_channel", "consent_purpose", "is_granted", "valid_from", "valid_to")


def consented_customers_sql(relation: str, consent: Consent, at: datetime, prefix: str) -> tuple[str, dict[str, Any]]:
    """SQL selecting the customers (``customer_id``) with this consent granted at ``at``, and its parameters."""
    sql = f"""
        select distinct customer_id
        from {relation}
        where consent_channel = ${prefix}_channel
            and consent_purpose = ${prefix}_purpose
            and is_granted
            and valid_from <= ${prefix}_at
            and (valid_to is null or valid_to > ${prefix}_at)
    """
    return sql, {f"{prefix}_channel": consent.channel, f"{prefix}_purpose": consent.purpose, f"{prefix}_at": at}


def check_consent_relation(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """The consent periods must exist with their columns before anything is sent to a consent destination."""
    schema, table = relation.split(".")
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    }
    if not columns:
        raise UserError(f"{relation} does not exist: build the consent marts (kith build) before activating")
    missing = [c for c in CONSENT_COLUMNS if c not in columns]
    if missing:
        raise UserError(f"{relation} lacks the column(s) {', '.join(missing)}")
