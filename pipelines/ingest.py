"""Landing folder -> DuckDB datasets ``raw_<system>``, one dlt pipeline per source system.

Each entity is a dlt resource that yields Arrow tables (the fast path). A file is loaded once:
files already recorded (by SHA-256) in ``raw_<system>.loaded_files`` are skipped, so a rerun loads
only new files and a delivery sent twice loads once. Rejected rows go to
``raw_<system>.rejected_rows`` with the file, line and reason, in the same load as the good rows.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from kith.config import UserError
from pipelines.landing import (
    LOADED_FILES_SCHEMA,
    REJECTED_ROWS_SCHEMA,
    Entity,
    EntityReader,
    FileResult,
    LandingFile,
    batches,
    describe,
    discover,
    manifest_table,
    now_utc,
    parser_connection,
    rejected_rows_table,
)
from pipelines.sources import SYSTEMS, entities

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (label, files done, files total)

# dlt settings: load ids on Arrow rows (lineage), no telemetry calls to the outside.
_DLT_ENV = {
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "RUNTIME__LOG_LEVEL": "ERROR",
    # merge loads go through a staging dataset (raw_<system>_staging): empty it after each load so
    # no second copy of raw data lingers in the warehouse
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
}


@dataclass
class EntitySummary:
    system: str
    entity: str
    files_new: int = 0
    files_skipped: int = 0
    files_duplicate: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    new_columns: set[str] = field(default_factory=set)

    def add(self, result: FileResult) -> None:
        if result.duplicate_of:
            self.files_duplicate += 1
            return
        self.files_new += 1
        self.rows_read += result.rows_read
        self.rows_loaded += result.rows_loaded
        self.rows_rejected += result.rows_rejected
        self.new_columns.update(result.new_columns)


@dataclass
class IngestSummary:
    warehouse: Path
    landing: Path
    entities: list[EntitySummary]
    seconds: float

    @property
    def rows_loaded(self) -> int:
        return sum(e.rows_loaded for e in self.entities)

    @property
    def rows_rejected(self) -> int:
        return sum(e.rows_rejected for e in self.entities)

    @property
    def rows_read(self) -> int:
        return sum(e.rows_read for e in self.entities)


def _table_hints(entity: Entity) -> dict:
    hints: dict = {
        "table_name": entity.name,
        "primary_key": list(entity.primary_key),
        "schema_contract": {"tables": "evolve", "columns": "evolve", "data_type": "freeze"},
    }
    if entity.disposition == "merge":
        hints["write_disposition"] = {"disposition": "merge", "strategy": "delete-insert"}
        hints["columns"] = {entity.dedup_sort or "_kith_file": {"dedup_sort": "desc"}}
    else:
        hints["write_disposition"] = "append"
    return hints


def _entity_resource(
    entity: Entity,
    landing: Path,
    files: Sequence[LandingFile],
    duplicates: Sequence[FileResult],
    con: duckdb.DuckDBPyConnection,
    results: list[FileResult],
    progress: Progress | None,
):
    import dlt

    reader = EntityReader(entity, landing, con)
    rejected_hints = dlt.mark.make_hints(
        table_name="rejected_rows", write_disposition="append", primary_key=["file_path", "line_number"]
    )
    files_hints = dlt.mark.make_hints(
        table_name="loaded_files", write_disposition="append", primary_key=["file_path", "file_sha256"]
    )

    def rows() -> Iterator:
        done = 0
        label = entity.folder
        if progress:
            progress(label, 0, len(files))
        for group in batches(files):
            batch = reader.read(group)
            loaded_at = now_utc()
            if batch.rows.num_rows:
                yield batch.rows
            if batch.rejected.num_rows:
                rejected = rejected_rows_table(batch.rejected, loaded_at)
                yield dlt.mark.with_hints(rejected, rejected_hints, create_table_variant=True)
            manifest = manifest_table(batch.files, loaded_at)
            results.extend(batch.files)
            yield dlt.mark.with_hints(manifest, files_hints, create_table_variant=True)
            done += len(group)
            if progress:
                progress(label, done, len(files))
        if duplicates:
            loaded_at = now_utc()
            results.extend(duplicates)
            yield dlt.mark.with_hints(manifest_table(duplicates, loaded_at), files_hints, create_table_variant=True)

    return dlt.resource(rows, name=entity.name, **_table_hints(entity))


def _system_source(system: str, resources: list):
    import dlt

    @dlt.source(name=system)
    def landing_source():
        return resources

    return landing_source()


def check_landing(landing: Path) -> None:
    if not landing.is_dir():
        raise UserError(f"landing folder {landing} does not exist (run `kith generate` or drop exports there)")
    if not any(landing.iterdir()):
        raise UserError(f"landing folder {landing} is empty (run `kith generate` or drop exports there)")


def open_warehouse(warehouse: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, turning DuckDB's lock error into a one-line user error."""
    try:
        return duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"warehouse {warehouse} is locked by another process (a running kith/dbt command or a BI "
                "tool): wait for it or close it, then retry"
            ) from None
        raise


@dataclass
class _Known:
    """What the warehouse already holds for a system: first path per content hash, every path."""

    first_path: dict[str, str] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)


def _loaded_files(warehouse: Path, systems: Sequence[str]) -> dict[str, _Known]:
    """Files already recorded in the warehouse's ``raw_<system>.loaded_files`` tables."""
    known = {s: _Known() for s in systems}
    if not warehouse.exists():
        return known
    con = open_warehouse(warehouse)
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_schema from information_schema.tables where table_name = 'loaded_files'"
            ).fetchall()
        }
        for system in systems:
            if f"raw_{system}" in present:
                rows = con.execute(
                    f"select file_sha256, file_path, duplicate_of is null from raw_{system}.loaded_files "
                    "order by loaded_at"
                ).fetchall()
                for sha, path, original in rows:
                    known[system].paths.add(path)
                    if original:
                        known[system].first_path.setdefault(sha, path)
    finally:
        con.close()
    return known


def ensure_tables(warehouse: Path, systems: Sequence[str]) -> None:
    """Every contracted raw table exists, empty when nothing was delivered, so that dbt sources and
    audits can rely on them (dlt creates a table only when it receives rows)."""
    con = open_warehouse(warehouse)
    try:
        for system in systems:
            schema = f"raw_{system}"
            con.execute(f"create schema if not exists {schema}")
            tables = {
                "rejected_rows": [(f.name, _duckdb_type(f.type)) for f in REJECTED_ROWS_SCHEMA],
                "loaded_files": [(f.name, _duckdb_type(f.type)) for f in LOADED_FILES_SCHEMA],
            }
            for entity in entities(system):
                tables[entity.name] = [(c.name, c.duckdb_type) for c in entity.columns] + [
                    ("_kith_file", "varchar"),
                    ("_kith_line", "bigint"),
                ]
            for table, columns in tables.items():
                cols = ", ".join(f'"{name}" {sql_type}' for name, sql_type in [*columns, ("_dlt_load_id", "varchar")])
                con.execute(f"create table if not exists {schema}.{table} ({cols})")
    finally:
        con.close()


def _duckdb_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz"
    return {pa.string(): "varchar", pa.int64(): "bigint"}[arrow_type]


def _pipelines_dir(warehouse: Path) -> Path:
    """dlt's working state lives beside the warehouse; a fresh warehouse gets fresh state."""
    folder = warehouse.parent / ".dlt" / warehouse.stem
    if not warehouse.exists() and folder.exists():
        shutil.rmtree(folder)
    return folder


def raise_open_files_limit() -> None:
    """Landing folders hold thousands of files (POS: one per store per day) and DuckDB may open a
    batch of them at once: lift the soft limit on open files to the hard limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def ingest(
    landing: Path,
    warehouse: Path,
    systems: Sequence[str] | None = None,
    progress: Progress | None = None,
    memory_limit: str = "2GB",
) -> IngestSummary:
    """Load every new landing file into ``raw_<system>`` datasets of the warehouse."""
    import dlt

    for key, value in _DLT_ENV.items():
        os.environ.setdefault(key, value)
    started = time.perf_counter()
    raise_open_files_limit()
    landing, warehouse = landing.resolve(), warehouse.resolve()
    check_landing(landing)
    systems = list(systems or SYSTEMS)
    for s in systems:
        entities(s)  # validates the name
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    pipelines_dir = _pipelines_dir(warehouse)
    open_warehouse(warehouse).close()  # fail fast, in one line, when locked
    known = _loaded_files(warehouse, systems)
    tmp = warehouse.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    summaries: list[EntitySummary] = []

    for system in systems:
        con = parser_connection(memory_limit, str(tmp))
        results: list[FileResult] = []
        resources = []
        seen = dict(known[system].first_path)
        for entity in entities(system):
            summary = EntitySummary(system, entity.name)
            summaries.append(summary)
            new, dups = [], []
            for f in describe(landing, discover(landing, entity)):
                first = seen.get(f.sha256)
                if first is None:
                    seen[f.sha256] = f.relative
                    new.append(f)
                elif f.relative in known[system].paths:
                    summary.files_skipped += 1
                else:
                    dups.append(FileResult(f, entity.name, duplicate_of=first))
            if new or dups:
                resources.append(_entity_resource(entity, landing, new, dups, con, results, progress))
        pipeline = dlt.pipeline(
            pipeline_name=f"kith_{system}",
            destination=dlt.destinations.duckdb(str(warehouse)),
            dataset_name=f"raw_{system}",
            pipelines_dir=str(pipelines_dir),
        )
        if pipeline.has_pending_data:  # a load interrupted earlier: finish it first
            log.warning("%s: finishing an interrupted load first", system)
            pipeline.normalize()
            pipeline.load()
        if resources:
            source = _system_source(system, resources)
            try:
                pipeline.run(source, loader_file_format="parquet")
            except Exception as exc:  # dlt wraps lock errors in its own exceptions
                if "lock" in str(exc).lower():
                    raise UserError(f"warehouse {warehouse} is locked by another process; retry later") from None
                raise
        con.close()
        by_entity = {s.entity: s for s in summaries if s.system == system}
        for r in results:
            by_entity[r.entity].add(r)
    ensure_tables(warehouse, systems)
    return IngestSummary(warehouse, landing, summaries, time.perf_counter() - started)
