"""The ``privacy`` schema: what was erased, when, and how much, without any personal data.

- ``erasure_log``: one row per ``kith forget``: a SHA-256 of the request (never the request), when it
  was made and completed, and counts. No customer id, no identifier.
- ``landing_rewrites``: one row per landing file rewritten by an erasure: the content hash before and
  after (so ingestion recognises the rewritten file as the delivery it already loaded, and a
  re-delivery of the original as a duplicate), how many lines were emptied, and, until the file has
  been replaced, the line numbers to empty (an interrupted erasure resumes from them).
- ``erased_rows``: rows deleted per warehouse table by each erasure (what ``kith audit`` reports as
  erased).
"""

from __future__ import annotations

import duckdb

SCHEMA = "privacy"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.erasure_log (
    erasure_id varchar primary key,
    request_sha256 varchar not null,
    requested_at timestamptz not null,
    completed_at timestamptz,
    status varchar not null check (status in ('landing_pending', 'completed')),
    customers integer not null,
    landing_lines integer not null,
    files_rewritten integer not null,
    raw_rows bigint not null,
    warehouse_rows bigint not null,
    activation_removals integer not null
);
create table if not exists {SCHEMA}.landing_rewrites (
    erasure_id varchar not null,
    system varchar not null,
    entity varchar not null,
    file_path varchar not null,
    original_sha256 varchar not null,
    rewritten_sha256 varchar not null,
    rewritten_size_bytes bigint not null,
    is_duplicate_delivery boolean not null,
    lines_erased integer not null,
    rows_loaded_erased integer not null,
    rows_rejected_erased integer not null,
    erased_lines bigint[],
    rewritten_at timestamptz,
    primary key (erasure_id, file_path)
);
create table if not exists {SCHEMA}.erased_rows (
    erasure_id varchar not null,
    table_schema varchar not null,
    table_name varchar not null,
    rows_erased bigint not null,
    primary key (erasure_id, table_schema, table_name)
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def has_schema(con: duckdb.DuckDBPyConnection) -> bool:
    (n,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = 'landing_rewrites'",
        [SCHEMA],
    ).fetchone()
    return bool(n)
