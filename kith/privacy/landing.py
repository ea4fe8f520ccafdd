"""Erasing a person from the landing archive: their lines are emptied, every other line stays put.

The landing folder is the archive every raw table can be rebuilt from, so an erasure rewrites the
files that hold the person's lines. A line is emptied rather than removed (its line break stays):
the loader skips empty lines, so every other row keeps its line number and the raw tables' lineage
(``_kith_file``, ``_kith_line``) stays true. Each rewrite is recorded in ``privacy.landing_rewrites``
with the content hash before and after, which ingestion reads as "already loaded": the rewritten
file is not loaded again, and a second delivery of the original is recognised as a duplicate.

Crash safety: the rewritten content is written to a temporary file beside the original first; the
warehouse is purged and the rewrites recorded (with the line numbers) in one transaction; only then
are the files swapped in (``os.replace``). A process killed in between leaves the rewrites recorded
as pending, and :func:`complete_pending_rewrites` (run by ``kith ingest`` and ``kith forget`` before
anything else) finishes them, so the person's lines are never read back into the warehouse.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kith.config import UserError
from kith.privacy.schema import SCHEMA, has_schema

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".kith-erasure"


@dataclass
class Rewrite:
    """One landing file to rewrite without some of its lines."""

    system: str
    entity: str
    file_path: str  # relative to the landing folder
    original_sha256: str
    lines: list[int]
    is_duplicate_delivery: bool = False
    rows_rejected_erased: int = 0
    rewritten_sha256: str = ""
    rewritten_size_bytes: int = 0

    @property
    def rows_loaded_erased(self) -> int:
        return 0 if self.is_duplicate_delivery else len(self.lines) - self.rows_rejected_erased


def empty_lines(data: bytes, lines: Iterable[int]) -> bytes:
    """``data`` with the given 1-based physical lines emptied; their line breaks stay."""
    parts = data.split(b"\n")
    crlf = parts[0].endswith(b"\r")
    for number in lines:
        if 1 <= number <= len(parts) and parts[number - 1] not in (b"", b"\r"):
            parts[number - 1] = b"\r" if crlf and number < len(parts) else b""
    return b"\n".join(parts)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


def prepare(landing: Path, rewrites: list[Rewrite]) -> None:
    """Write each file's rewritten content to its temporary file (synced), and fill in its hash and size."""
    for rewrite in rewrites:
        path = landing / rewrite.file_path
        data = path.read_bytes()
        if sha256_bytes(data) != rewrite.original_sha256:
            raise UserError(f"landing file {rewrite.file_path} changed since it was loaded; run `kith ingest` first")
        new = empty_lines(data, rewrite.lines)
        rewrite.rewritten_sha256 = sha256_bytes(new)
        rewrite.rewritten_size_bytes = len(new)
        _write_synced(temp_path(path), new)


def swap_in(landing: Path, rewrites: Iterable[Rewrite]) -> None:
    """Replace each original by its prepared rewrite (atomic per file)."""
    folders = set()
    for rewrite in rewrites:
        path = landing / rewrite.file_path
        temp_path(path).replace(path)
        folders.add(path.parent)
    for folder in folders:
        _sync_dir(folder)


def discard_temporaries(landing: Path) -> int:
    """Remove temporary files an interrupted erasure left before it recorded anything."""
    removed = 0
    for path in landing.rglob(f".*{TEMP_SUFFIX}"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def complete_pending_rewrites(landing: Path, warehouse: Path) -> int:
    """Finish the landing rewrites of erasures that were interrupted after the warehouse was purged.

    For each pending file: already rewritten (its hash is the recorded new one), or still the
    original (its lines are emptied now), or changed by someone else (an error: the file no longer
    is the delivery that was loaded). Returns the number of files rewritten now.
    """
    from pipelines.ingest import open_warehouse

    con = open_warehouse(warehouse)
    try:
        if not has_schema(con):
            if landing.is_dir():
                discard_temporaries(landing)
            return 0
        pending = con.execute(
            f"""
            select erasure_id, file_path, original_sha256, rewritten_sha256, erased_lines
            from {SCHEMA}.landing_rewrites where rewritten_at is null order by erasure_id, file_path
            """
        ).fetchall()
        done = 0
        for erasure_id, file_path, original, rewritten, lines in pending:
            path = landing / file_path
            data = path.read_bytes() if path.exists() else None
            current = sha256_bytes(data) if data is not None else None
            if current == original:
                new = empty_lines(data, lines)
                if sha256_bytes(new) != rewritten:
                    raise UserError(f"cannot finish the erasure of {file_path}: the rewrite does not reproduce")
                _write_synced(temp_path(path), new)
                temp_path(path).replace(path)
                _sync_dir(path.parent)
                done += 1
            elif current != rewritten and data is not None:
                raise UserError(
                    f"landing file {file_path} changed during an interrupted erasure; restore the delivery "
                    "or remove the file, then rerun"
                )
            _mark_rewritten(con, erasure_id, [file_path])
        _close_finished_erasures(con)
        discard_temporaries(landing)
        if done:
            log.warning("finished %d landing rewrite(s) of an interrupted erasure", done)
        return done
    finally:
        con.close()


def _mark_rewritten(con: duckdb.DuckDBPyConnection, erasure_id: str, file_paths: list[str]) -> None:
    con.execute(
        f"""
        update {SCHEMA}.landing_rewrites set rewritten_at = now(), erased_lines = null
        where erasure_id = ? and file_path in (select unnest(?::varchar[]))
        """,
        [erasure_id, file_paths],
    )


def mark_rewritten(con: duckdb.DuckDBPyConnection, erasure_id: str, rewrites: Iterable[Rewrite]) -> None:
    _mark_rewritten(con, erasure_id, [r.file_path for r in rewrites])
    _close_finished_erasures(con)


def _close_finished_erasures(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""
        update {SCHEMA}.erasure_log set status = 'completed', completed_at = coalesce(completed_at, now())
        where status = 'landing_pending' and not exists (
            select 1 from {SCHEMA}.landing_rewrites as r
            where r.erasure_id = erasure_log.erasure_id and r.rewritten_at is null
        )
        """
    )


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
