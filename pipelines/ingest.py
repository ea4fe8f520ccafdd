"""Landing folder -> DuckDB datasets ``raw_<system>``, one dlt pipeline per source system.

Each entity is a dlt resource that yields Arrow tables (the fast path). A file is loaded once:
files already recorded (by SHA-256) in ``raw_<system>.loaded_files`` are skipped, so a rerun loads
only new files and a delivery sent twice loads once. Rejected rows go to
``raw_<system>.rejected_rows`` with the file, line and reason, in the same load as the good rows.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
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
    # nor beside it: dlt keeps the Parquet files of loaded packages unless told to delete them
    "LOAD__DELETE_COMPLETED_JOBS": "true",
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
    # what was done to recover from an interrupted earlier run (finished loads, repaired rows)
    recovered: list[str] = field(default_factory=list)

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
    temp_dir: Path | None = None,
):
    import dlt

    reader = EntityReader(entity, landing, con, temp_dir=temp_dir)
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
    """Open the warehouse, turning DuckDB's lock error into a one-line user error. With
    ``KITH_LOCK_WAIT`` set, a warehouse another process has open is retried for that long first (a
    reader such as the BI publisher holds it for a moment after a build)."""
    deadline = time.monotonic() + _lock_wait_seconds()
    while True:
        try:
            return duckdb.connect(str(warehouse), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise UserError(
                    f"warehouse {warehouse} is locked by another process (a running kith/dbt command or a BI "
                    "tool): wait for it or close it, then retry"
                ) from None
            time.sleep(0.2)


def _lock_wait_seconds() -> float:
    try:
        return float(os.environ.get(LOCK_WAIT_ENV) or 0)
    except ValueError:
        raise UserError(f"{LOCK_WAIT_ENV} must be a number of seconds") from None


LOCK_WAIT_ENV = "KITH_LOCK_WAIT"
_HELD_LOCKS: dict[str, int] = {}  # warehouse -> depth: the lock is re-entrant within a process


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".kith-lock")


def _lock_holder(path: Path, patience: float = 1.0) -> str:
    """Who holds the lock, as its holder wrote it (command, pid, start time); a holder that has just
    taken the lock writes this a moment later, hence the short patience."""
    deadline = time.monotonic() + patience
    while True:
        try:
            holder = json.loads(path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        if holder.get("command") or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if not holder.get("command"):
        return "another kith command"
    return f"`{holder['command']}` (pid {holder.get('pid')}, running since {holder.get('started_at')})"


@contextmanager
def warehouse_lock(warehouse: Path, command: str, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the warehouse for one writing Kith command (ingest, build, forget) at a time.

    DuckDB's own file lock lets a second writer fail at any point of its run (dlt and dbt open the
    file several times); this advisory lock (``flock`` on ``<warehouse>.kith-lock``) is taken once,
    before anything is read or written, so a second command fails at once with a one-line
    :class:`UserError` naming the command that holds it, or waits up to ``wait_seconds`` (default:
    the environment variable ``KITH_LOCK_WAIT``, else 0). The kernel releases it when the holder
    exits, killed or not, so a crash never leaves a stale lock. Re-entrant within a process.
    """
    warehouse = warehouse.resolve()
    key = str(warehouse)
    if key in _HELD_LOCKS:
        _HELD_LOCKS[key] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[key] -= 1
        return
    if wait_seconds is None:
        wait_seconds = _lock_wait_seconds()
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
                    raise UserError(
                        f"warehouse {warehouse} is busy{waited}: {_lock_holder(path)} is writing it; retry when it "
                        f"has finished (or set {LOCK_WAIT_ENV}=<seconds> to wait)"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        started = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        handle.write(json.dumps({"command": command, "pid": os.getpid(), "started_at": started}))
        handle.flush()
        _HELD_LOCKS[key] = 1
        try:
            yield
        finally:
            del _HELD_LOCKS[key]
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


@dataclass
class _Known:
    """What the warehouse already holds for a system: first path per content hash, every path."""

    first_path: dict[str, str] = field(default_factory=dict)
    paths: set[str] = field(default_factory=set)
    shas: set[tuple[str, str]] = field(default_factory=set)  # (path, content hash) recorded


def _loaded_files(warehouse: Path, systems: Sequence[str]) -> dict[str, _Known]:
    """Files already recorded in the warehouse's ``raw_<system>.loaded_files`` tables, with the
    content a file has after an erasure rewrote it (``privacy.landing_rewrites``)."""
    known = {s: _Known() for s in systems}
    if not warehouse.exists():
        return known
    con = open_warehouse(warehouse)
    try:
        present = {
            (r[0], r[1])
            for r in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_name in ('loaded_files', 'landing_rewrites')"
            ).fetchall()
        }
        for system in systems:
            if (f"raw_{system}", "loaded_files") in present:
                rows = con.execute(
                    f"select file_sha256, file_path, duplicate_of is null from raw_{system}.loaded_files "
                    "order by loaded_at"
                ).fetchall()
                for sha, path, original in rows:
                    known[system].paths.add(path)
                    if original:
                        known[system].first_path.setdefault(sha, path)
                known[system].shas = {(path, sha) for sha, path, _ in rows}
            if ("privacy", "landing_rewrites") in present:
                for sha, path in con.execute(
                    "select rewritten_sha256, file_path from privacy.landing_rewrites where system = ? "
                    "order by erasure_id",
                    [system],
                ).fetchall():
                    known[system].first_path.setdefault(sha, path)
                    known[system].shas.add((path, sha))
    finally:
        con.close()
    return known


def unloaded_files(landing: Path, warehouse: Path, systems: Sequence[str] | None = None) -> list[str]:
    """Landing files whose content the warehouse has not recorded (new, or changed since loading)."""
    systems = list(systems or SYSTEMS)
    known = _loaded_files(warehouse, systems)
    missing = []
    for system in systems:
        for entity in entities(system):
            for f in describe(landing, discover(landing, entity)):
                if (f.relative, f.sha256) not in known[system].shas:
                    missing.append(f.relative)
    return missing


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


def _pipeline(system: str, warehouse: Path, pipelines_dir: Path):
    import dlt
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    credentials = DuckDbCredentials(str(warehouse))
    # Every raw row carries its file and line, so its physical position in the table means nothing:
    # inserts that need not keep the order of their input run in parallel without reordering it.
    credentials.global_config = {"preserve_insertion_order": False}
    return dlt.pipeline(
        pipeline_name=f"kith_{system}",
        destination=dlt.destinations.duckdb(credentials),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(pipelines_dir),
    )


def _run(pipeline, warehouse: Path, step: Callable[[], object]) -> None:
    try:
        step()
    except Exception as exc:  # dlt wraps lock errors in its own exceptions
        if "lock" in str(exc).lower():
            raise UserError(f"warehouse {warehouse} is locked by another process; retry later") from None
        raise


def finish_interrupted_loads(warehouse: Path, systems: Sequence[str], pipelines_dir: Path) -> list[str]:
    """Load what an interrupted run left extracted or normalised, then repair what a retried job
    may have doubled. Runs before new files are chosen, so the files of the finished load count as
    loaded (choosing first would extract them a second time)."""
    recovered = []
    for system in systems:
        dropped = _discard_unnormalised_packages(pipelines_dir / f"kith_{system}")
        if dropped:
            recovered.append(f"raw_{system}: discarded {dropped} package(s) an interrupted run had not normalised")
        pipeline = _pipeline(system, warehouse, pipelines_dir)
        if not pipeline.has_pending_data:
            continue
        log.warning("%s: finishing an interrupted load first", system)
        _run(pipeline, warehouse, pipeline.normalize)
        _run(pipeline, warehouse, pipeline.load)
        removed = remove_doubled_rows(warehouse, system)
        recovered.append(
            f"raw_{system}: finished an interrupted load"
            + (f"; removed {removed:,} rows loaded twice by a retried job" if removed else "")
        )
    return recovered


def _discard_unnormalised_packages(folder: Path) -> int:
    """Drop what an interrupted run extracted but had not finished normalising: nothing of it has
    reached the warehouse (files and their loaded-files rows travel in one package), so its files are
    simply extracted again; a half-moved package would stop dlt's normaliser. Normalised packages
    are complete and are loaded instead."""
    dropped = 0
    normalize = folder / "normalize"
    if normalize.is_dir():
        for child in normalize.iterdir():
            if not child.is_dir():
                continue
            packages = list(child.iterdir()) if child.name == "extracted" else [child]  # or extract's temp folder
            for package in packages:
                if package.is_dir():
                    shutil.rmtree(package)
                    dropped += 1
    for package in (folder / "load" / "new").glob("*"):
        if package.is_dir():
            shutil.rmtree(package)
            dropped += 1
    return dropped


def remove_doubled_rows(warehouse: Path, system: str) -> int:
    """Remove second copies of rows that a load job retried after a crash inserted again.

    A job whose insert committed but whose completion dlt had not recorded yet (a kill in between)
    runs again when the load is resumed. Every raw row comes from one line of one file
    (``_kith_file``, ``_kith_line``), every rejected row too, and every delivered file is recorded
    once per content hash, so a second copy is recognisable exactly; the first load's copy stays.
    """
    con = open_warehouse(warehouse)
    removed = 0
    try:
        schema = f"raw_{system}"
        columns: dict[str, set[str]] = {}
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?", [schema]
        ).fetchall():
            columns.setdefault(table, set()).add(column)
        for table, cols in sorted(columns.items()):
            if table.startswith("_dlt"):
                continue
            if {"_kith_file", "_kith_line"} <= cols:
                key = "_kith_file, _kith_line"
            elif table == "rejected_rows":
                key = "file_path, line_number"
            elif table == "loaded_files":
                key = "file_path, file_sha256"
            else:
                continue
            (n,) = con.execute(
                f"""
                delete from {schema}.{table} where rowid in (
                    select rowid from {schema}.{table}
                    qualify row_number() over (partition by {key} order by _dlt_load_id, rowid) > 1
                )
                """
            ).fetchone()
            removed += n
    finally:
        con.close()
    return removed


def ingest(
    landing: Path,
    warehouse: Path,
    systems: Sequence[str] | None = None,
    progress: Progress | None = None,
    memory_limit: str = "2GB",
) -> IngestSummary:
    """Load every new landing file into ``raw_<system>`` datasets of the warehouse.

    Holds :func:`warehouse_lock` for the whole run. A run killed at any point is finished by the
    next one: its pending load first (see :func:`finish_interrupted_loads`), then the files it had
    not loaded yet.
    """
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
    with warehouse_lock(warehouse, "kith ingest"):
        pipelines_dir = _pipelines_dir(warehouse)
        open_warehouse(warehouse).close()  # fail fast, in one line, when locked
        recovered = _complete_pending_erasures(landing, warehouse)
        recovered += finish_interrupted_loads(warehouse, systems, pipelines_dir)
        summaries = _load_new_files(landing, warehouse, systems, pipelines_dir, progress, memory_limit)
        ensure_tables(warehouse, systems)
    return IngestSummary(warehouse, landing, summaries, time.perf_counter() - started, recovered)


def _complete_pending_erasures(landing: Path, warehouse: Path) -> list[str]:
    """An erasure (``kith forget``) interrupted after the warehouse was purged still has landing files
    to rewrite: finish it before the files are read, or the erased rows would load again."""
    if not warehouse.exists():
        return []
    from kith.privacy.landing import complete_pending_rewrites

    done = complete_pending_rewrites(landing, warehouse)
    return [f"finished an interrupted erasure: rewrote {done} landing file(s)"] if done else []


def _load_new_files(
    landing: Path,
    warehouse: Path,
    systems: Sequence[str],
    pipelines_dir: Path,
    progress: Progress | None,
    memory_limit: str,
) -> list[EntitySummary]:
    """Extract each system's new files (parse, validate, write Parquet) in this thread while the
    system before it is normalised and loaded into the warehouse in a second one: parsing runs in
    an in-memory DuckDB and loading in the warehouse's, so the two overlap instead of taking turns.
    Loads run one at a time, in system order. A failed load fails the run: no system is extracted
    after it is seen (a system already extracted still loads), and what was extracted but not
    loaded is finished or extracted again by the next run (:func:`finish_interrupted_loads`)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    known = _loaded_files(warehouse, systems)
    tmp = warehouse.parent / "tmp"
    tmp.mkdir(exist_ok=True)
    for stale in tmp.glob("kith-pack-*"):  # combined CSV files of a run that was killed (we hold the lock)
        stale.unlink(missing_ok=True)
    summaries: list[EntitySummary] = []
    outcomes: list[tuple[str, list[FileResult], Future]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kith-load") as loader:
        for system in systems:
            _raise_failed_load(outcomes)
            con = parser_connection(memory_limit, str(tmp))
            results: list[FileResult] = []
            try:
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
                        resources.append(_entity_resource(entity, landing, new, dups, con, results, progress, tmp))
                if resources:
                    pipeline = _pipeline(system, warehouse, pipelines_dir)
                    source = _system_source(system, resources)
                    _run(pipeline, warehouse, pipeline.sync_destination)
                    _run(pipeline, warehouse, lambda p=pipeline, s=source: p.extract(s, loader_file_format="parquet"))
                    outcomes.append((system, results, loader.submit(_normalize_and_load, pipeline, warehouse)))
            finally:
                con.close()
        _raise_failed_load(outcomes, wait=True)
    for system, results, _ in outcomes:
        by_entity = {s.entity: s for s in summaries if s.system == system}
        for r in results:
            by_entity[r.entity].add(r)
    return summaries


def _normalize_and_load(pipeline, warehouse: Path) -> None:
    """What ``pipeline.run`` does after extracting (runs in the loading thread)."""
    _run(pipeline, warehouse, pipeline.normalize)
    _run(pipeline, warehouse, pipeline.load)


def _raise_failed_load(outcomes: list, wait: bool = False) -> None:
    """Raise the error of a load that failed (of every load, once finished, with ``wait``)."""
    for _, _, future in outcomes:
        if wait or future.done():
            future.result()
