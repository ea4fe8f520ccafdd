"""The raw datasets as a Parquet data lake, for engines other than DuckDB (Apache Spark: docs/spark.md).

`kith ingest` loads the landing files into the DuckDB warehouse (raw_<system> schemas), with its
quarantine and bookkeeping. :func:`export_raw` writes every raw table as Parquet under the lake
root, one folder per table (``<lake>/raw_<system>/<table>/part-0.parquet``), the layout a Spark
external table (``create table raw_web.events using parquet location '<lake>/raw_web/events'``)
and object storage (``s3://bucket/kith/raw_web/events/``) both use. Each table's folder is written
beside the old one and swapped in, so a reader sees a whole old or a whole new table.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from kith.config import UserError

log = logging.getLogger(__name__)

LAKE_ENV = "KITH_LAKE"


def default_lake(warehouse: Path) -> Path:
    """``$KITH_LAKE``, else ``<warehouse dir>/lake`` (the Spark profile reads ``KITH_LAKE`` too)."""
    value = os.environ.get(LAKE_ENV)
    return Path(value).expanduser().resolve() if value else warehouse.parent / "lake"


@dataclass
class LakeExport:
    lake: Path
    tables: dict[str, int] = field(default_factory=dict)  # "raw_web.events" -> rows written
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rows = sum(self.tables.values())
        return [
            f"lake: {len(self.tables)} raw tables, {rows:,} rows written as Parquet in {self.seconds:.1f}s",
            f"lake: {self.lake}",
        ]


def raw_tables(con) -> list[tuple[str, str]]:
    """(schema, table) of every raw table the warehouse holds, dlt's own bookkeeping tables excluded."""
    rows = con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_schema like 'raw\\_%' escape '\\'
            and table_schema not like '%\\_staging' escape '\\'  -- dlt's merge staging datasets
            and table_name not like '\\_dlt\\_%' escape '\\'
            and table_type = 'BASE TABLE'
        order by 1, 2
        """
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def export_raw(warehouse: Path, lake: Path) -> LakeExport:
    """Write every raw table of the DuckDB warehouse as Parquet under ``lake`` (see the module doc)."""
    from pipelines.ingest import open_warehouse

    if not warehouse.exists():
        raise UserError(f"warehouse {warehouse} does not exist yet: run `kith ingest` first")
    started = time.perf_counter()
    export = LakeExport(lake=lake)
    lake.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(warehouse, read_only=True)
    try:
        tables = raw_tables(con)
        if not tables:
            raise UserError(f"warehouse {warehouse} has no raw tables: run `kith ingest` first")
        for schema, table in tables:
            final = lake / schema / table
            staging = lake / schema / f".{table}.writing"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            target = str(staging / "part-0.parquet").replace("'", "''")
            # DuckDB writes TIMESTAMP WITH TIME ZONE as UTC-adjusted Parquet timestamps (Spark: TIMESTAMP)
            con.execute(f'copy (select * from "{schema}"."{table}") to \'{target}\' (format parquet, compression zstd)')
            export.tables[f"{schema}.{table}"] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            old = lake / schema / f".{table}.old"
            shutil.rmtree(old, ignore_errors=True)
            if final.exists():
                final.rename(old)
            staging.rename(final)
            shutil.rmtree(old, ignore_errors=True)
            log.info("%s.%s -> %s", schema, table, final)
    finally:
        con.close()
    export.seconds = time.perf_counter() - started
    return export
