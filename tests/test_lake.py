"""kith lake (kith/lake.py): every raw table of the DuckDB warehouse as Parquet, one folder per table,
dlt's own tables and merge staging datasets left out, a new export replacing the old one whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from kith.config import UserError
from kith.lake import export_raw


def _warehouse(path: Path, events: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists raw_web")
    con.execute("create schema if not exists raw_web_staging")
    con.execute("create schema if not exists staging")
    con.execute(
        "create or replace table raw_web.events as select range as event_id, "
        "timestamptz '2026-01-01 10:00:00+01' + to_seconds(range) as occurred_at, "
        "cast(range / 10 as decimal(18, 2)) as product_price from range(?)",
        [events],
    )
    con.execute("create or replace table raw_web._dlt_loads as select 'x' as load_id")
    con.execute("create or replace table raw_web_staging.events as select 1 as event_id")
    con.execute("create or replace table staging.stg_web__events as select 1 as event_id")
    con.close()


def test_every_raw_table_is_written_as_parquet_and_nothing_else(tmp_path: Path) -> None:
    warehouse = tmp_path / "kith.duckdb"
    _warehouse(warehouse, 25)
    export = export_raw(warehouse, tmp_path / "lake")
    assert export.tables == {"raw_web.events": 25}
    assert sorted(p.relative_to(tmp_path / "lake").as_posix() for p in (tmp_path / "lake").rglob("*.parquet")) == [
        "raw_web/events/part-0.parquet"
    ]
    rows = (
        duckdb.connect()
        .execute(
            f"select count(*), min(occurred_at at time zone 'UTC'), sum(product_price) "
            f"from read_parquet('{tmp_path / 'lake' / 'raw_web' / 'events'}/*.parquet')"
        )
        .fetchone()
    )
    # instants survive as UTC (10:00 at +01:00 is 09:00 UTC), decimals exactly
    assert rows[0] == 25
    assert str(rows[1]) == "2026-01-01 09:00:00"
    assert str(rows[2]) == "30.00"


def test_a_new_export_replaces_the_table_whole(tmp_path: Path) -> None:
    warehouse = tmp_path / "kith.duckdb"
    _warehouse(warehouse, 25)
    export_raw(warehouse, tmp_path / "lake")
    _warehouse(warehouse, 7)
    assert export_raw(warehouse, tmp_path / "lake").tables == {"raw_web.events": 7}
    folder = tmp_path / "lake" / "raw_web" / "events"
    assert duckdb.connect().execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()[0] == 7
    assert sorted(p.name for p in (tmp_path / "lake" / "raw_web").iterdir()) == ["events"]


def test_a_missing_or_empty_warehouse_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist yet"):
        export_raw(tmp_path / "none.duckdb", tmp_path / "lake")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(UserError, match="no raw tables"):
        export_raw(tmp_path / "empty.duckdb", tmp_path / "lake")
