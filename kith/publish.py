"""Publishing the public marts for BI: a read-only copy that BI tools read while the warehouse builds.

DuckDB allows one writer per file, so a BI tool holding the warehouse open would block ``kith build``
and a build would block BI. After a successful build, :func:`publish_marts` copies every public mart
(``access: public`` in the dbt manifest) into a publication folder that readers never share with a
writer::

    <publish dir>/                      $KITH_PUBLISH_DIR, default <warehouse dir>/published
        kith_marts.duckdb               every mart in one DuckDB file, replaced atomically (os.replace)
        parquet -> versions/<version>   a symlink to the current Parquet set, swapped atomically
        versions/<version>/<mart>.parquet, manifest.json
        manifest.json                   the current publication: version, times, row counts, masked columns

The DuckDB file is written with ``storage_compatibility_version`` ``v1.4.0`` so that the DuckDB 1.4
and 1.5 bundled with BI tools can open it (DuckDB 2.0's own format cannot be read by them). It also
holds a ``_publication`` table (one row per mart: version and row count) so a reader can check what
it sees. A reader that has the old file open keeps reading the old, complete copy; a new connection
sees the new one. Parquet readers resolve ``parquet/`` once and read a whole, consistent set; the last
``keep_versions`` sets stay on disk for readers that are still busy with one.

Columns flagged ``meta: {contains_pii: true}`` in the marts' YAML are published hashed (text:
SHA-256 of a key and the value, so equal values still join and count) or NULL (other types), unless
``include_pii`` or the environment variable ``KITH_PUBLISH_PII=1`` grants them. The hash key is
``KITH_PUBLISH_PII_KEY`` (stable hashes across publications) or, when unset, random for each
publication.

The warehouse is attached read-only for the copy alone, under Kith's writer lock
(``pipelines.ingest.warehouse_lock``, so no ingest or build starts meanwhile), and detached before
Parquet is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from kith.config import PROJECT_DIR, Paths, UserError

log = logging.getLogger(__name__)

# The oldest DuckDB that must open the published file: BI tools bundle DuckDB 1.4 or 1.5.
STORAGE_COMPATIBILITY_VERSION = "v1.4.0"
DUCKDB_FILE = "kith_marts.duckdb"
PARQUET_LINK = "parquet"
VERSIONS_DIR = "versions"
MANIFEST_FILE = "manifest.json"
PUBLICATION_TABLE = "_publication"
KEEP_VERSIONS = 3
PII_ENV = "KITH_PUBLISH_PII"
PII_KEY_ENV = "KITH_PUBLISH_PII_KEY"
PUBLISH_DIR_ENV = "KITH_PUBLISH_DIR"
_VERSION = re.compile(r"^\d{8}T\d{6}\d{6}Z-[0-9a-f]{6}$")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class MartSpec:
    """A public mart as the dbt manifest describes it."""

    name: str
    schema: str
    relation: str
    description: str
    column_descriptions: Mapping[str, str]
    pii_columns: frozenset[str]


@dataclass(frozen=True)
class PublishedMart:
    name: str
    rows: int
    parquet: str  # file name inside the version folder
    masked_columns: tuple[str, ...]


@dataclass(frozen=True)
class Publication:
    """What :func:`publish_marts` wrote."""

    version: str
    directory: Path
    duckdb_file: Path
    parquet_dir: Path  # the version folder (``parquet`` links to it)
    manifest_file: Path
    marts: tuple[PublishedMart, ...]
    pii_included: bool
    published_at: str
    built_at: str | None
    warehouse_seconds: float  # how long the warehouse was attached
    seconds: float
    removed_versions: tuple[str, ...] = field(default=())

    @property
    def row_counts(self) -> dict[str, int]:
        return {m.name: m.rows for m in self.marts}

    def manifest(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "published_at": self.published_at,
            "built_at": self.built_at,
            "duckdb_file": DUCKDB_FILE,
            "duckdb_storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION,
            "parquet_dir": f"{VERSIONS_DIR}/{self.version}",
            "pii_included": self.pii_included,
            "pii_hash_key": None
            if self.pii_included
            else (PII_KEY_ENV if os.environ.get(PII_KEY_ENV) else "random for this publication"),
            "marts": {m.name: {k: v for k, v in asdict(m).items() if k != "name"} for m in self.marts},
        }

    def lines(self) -> list[str]:
        masked = sum(len(m.masked_columns) for m in self.marts)
        return [
            f"published {len(self.marts)} mart{'s' * (len(self.marts) != 1)} ({sum(self.row_counts.values()):,} rows) "
            f"in {self.seconds:.1f}s "
            f"(warehouse attached {self.warehouse_seconds:.1f}s), version {self.version}",
            "personal data: included (granted)"
            if self.pii_included
            else f"personal data: {masked} column(s) hashed or masked ({PII_ENV}=1 to include)",
            f"DuckDB (readable by DuckDB >= 1.4): {self.duckdb_file}",
            f"Parquet: {self.directory / PARQUET_LINK}/<mart>.parquet",
        ]


def dbt_target_path() -> Path:
    """dbt's target folder: ``$DBT_TARGET_PATH`` (relative to the project) or ``target/``."""
    return PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")


def default_publish_dir(paths: Paths) -> Path:
    value = os.environ.get(PUBLISH_DIR_ENV)
    return Path(value).expanduser().resolve() if value else paths.warehouse.parent / "published"


def pii_granted(include_pii: bool | None = None) -> bool:
    """PII is published only when granted: explicitly by argument, or by ``KITH_PUBLISH_PII=1``."""
    if include_pii is not None:
        return include_pii
    return os.environ.get(PII_ENV, "").strip().lower() in _TRUE


def public_marts(manifest: Mapping[str, Any]) -> list[MartSpec]:
    """The root project's enabled public models, with their descriptions and PII-flagged columns."""
    project = manifest.get("metadata", {}).get("project_name")
    marts = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("access") != "public":
            continue
        if project and node.get("package_name") != project:
            continue
        config = node.get("config") or {}
        if config.get("enabled") is False or config.get("materialized") == "ephemeral":
            continue
        columns = node.get("columns") or {}
        pii = {
            name
            for name, column in columns.items()
            if (column.get("meta") or {}).get("contains_pii")
            or ((column.get("config") or {}).get("meta") or {}).get("contains_pii")
        }
        marts.append(
            MartSpec(
                name=node["name"],
                schema=node["schema"],
                relation=node.get("alias") or node["name"],
                description=(node.get("description") or "").strip(),
                column_descriptions={n: (c.get("description") or "").strip() for n, c in columns.items()},
                pii_columns=frozenset(pii),
            )
        )
    return sorted(marts, key=lambda m: m.name)


def publish_marts(
    paths: Paths,
    *,
    manifest_path: Path | None = None,
    publish_dir: Path | None = None,
    include_pii: bool | None = None,
    built_at: datetime | None = None,
    keep_versions: int = KEEP_VERSIONS,
) -> Publication:
    """Copy every public mart of the warehouse into the publication folder and swap it in atomically.

    ``manifest_path`` defaults to the dbt target's ``manifest.json``; ``publish_dir`` to
    ``$KITH_PUBLISH_DIR`` or ``<warehouse dir>/published``; ``include_pii`` to ``$KITH_PUBLISH_PII``.
    Raises :class:`UserError` (and leaves the previous publication as it was) if the warehouse or
    manifest is missing, the warehouse is locked by a writer, or a public mart has not been built.
    """
    from pipelines.ingest import warehouse_lock

    started = time.perf_counter()
    manifest_path = manifest_path or dbt_target_path() / "manifest.json"
    publish_dir = (publish_dir or default_publish_dir(paths)).resolve()
    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith build` first")
    if not manifest_path.exists():
        raise UserError(f"no dbt manifest at {manifest_path}: run `kith build` first")
    marts = public_marts(json.loads(manifest_path.read_text()))
    if not marts:
        raise UserError(f"the dbt manifest {manifest_path} has no public models to publish")
    if keep_versions < 1:
        raise ValueError("keep_versions must be at least 1")
    granted = pii_granted(include_pii)
    link = publish_dir / PARQUET_LINK
    if link.exists() and not link.is_symlink():
        raise UserError(f"{link} exists and is not a symlink: move it away to publish to {publish_dir}")
    publish_dir.mkdir(parents=True, exist_ok=True)
    (publish_dir / VERSIONS_DIR).mkdir(exist_ok=True)

    with _publish_lock(publish_dir):
        _remove_leftovers(publish_dir)
        now = datetime.now(UTC)
        version = f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"
        staging_dir = publish_dir / VERSIONS_DIR / f".{version}.partial"
        staging_dir.mkdir()
        staging_db = publish_dir / f".{DUCKDB_FILE}.{version}.partial"
        con = duckdb.connect(config=_duckdb_config())
        try:
            con.execute(f"attach '{_sql_path(staging_db)}' as pub (storage_version '{STORAGE_COMPATIBILITY_VERSION}')")
            with warehouse_lock(paths.warehouse, "kith publish"):  # no Kith writer starts meanwhile
                attached = time.perf_counter()
                published = _copy_marts(con, paths.warehouse, marts, granted)
                warehouse_seconds = time.perf_counter() - attached
            _describe(con, marts, published, version)
            for mart in published:
                con.execute(
                    f"copy pub.main.{_ident(mart.name)} to '{_sql_path(staging_dir / mart.parquet)}' "
                    "(format parquet, compression zstd)"
                )
            con.execute("detach pub")
        except BaseException:
            con.close()
            _remove_leftovers(publish_dir)
            raise
        con.close()
        publication = Publication(
            version=version,
            directory=publish_dir,
            duckdb_file=publish_dir / DUCKDB_FILE,
            parquet_dir=publish_dir / VERSIONS_DIR / version,
            manifest_file=publish_dir / MANIFEST_FILE,
            marts=tuple(published),
            pii_included=granted,
            published_at=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            built_at=_built_at(built_at, paths.warehouse),
            warehouse_seconds=warehouse_seconds,
            seconds=0.0,
        )
        text = json.dumps(publication.manifest(), indent=2) + "\n"
        (staging_dir / MANIFEST_FILE).write_text(text)
        # Swap in: the complete version folder, then the Parquet link, the DuckDB file, the manifest.
        staging_dir.rename(publication.parquet_dir)
        _replace_symlink(link, Path(VERSIONS_DIR) / version)
        staging_db.replace(publication.duckdb_file)  # os.replace: atomic
        _write_atomically(publication.manifest_file, text)
        removed = _prune_versions(publish_dir, keep_versions)
    seconds = time.perf_counter() - started
    log.info("published %s in %.1fs", version, seconds)
    return replace(publication, seconds=seconds, removed_versions=tuple(removed))


# -- steps ---------------------------------------------------------------------------------
def _copy_marts(
    con: duckdb.DuckDBPyConnection, warehouse: Path, marts: list[MartSpec], granted: bool
) -> list[PublishedMart]:
    """Attach the warehouse read-only, copy each mart (PII hashed or masked), detach."""
    try:
        con.execute(f"attach '{_sql_path(warehouse)}' as wh (read_only)")
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"warehouse {warehouse} is locked by another process (a running kith/dbt command): "
                "publish after it finishes"
            ) from None
        raise
    key = _pii_key()
    published = []
    try:
        present = {
            (s, t)
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'wh' "
                "union all select schema_name, view_name from duckdb_views() where database_name = 'wh'"
            ).fetchall()
        }
        missing = [m.name for m in marts if (m.schema, m.relation) not in present]
        if missing:
            raise UserError(
                f"public mart(s) not built in {warehouse}: {', '.join(missing)}; run a full `kith build`, "
                "the previous publication is unchanged"
            )
        for mart in marts:
            types = dict(
                con.execute(
                    "select column_name, data_type from duckdb_columns() "
                    "where database_name = 'wh' and schema_name = ? and table_name = ?",
                    [mart.schema, mart.relation],
                ).fetchall()
            )
            masked = [] if granted else sorted(c for c in mart.pii_columns if c in types)
            expressions = [_masked(c, types[c]) for c in masked]
            replacements = ", ".join(
                f"{expression} as {_ident(c)}" for c, expression in zip(masked, expressions, strict=True)
            )
            select = f"select * replace ({replacements})" if replacements else "select *"
            params = {"key": key} if any("$key" in e for e in expressions) else None
            con.execute(
                f"create table pub.main.{_ident(mart.name)} as {select} "
                f"from wh.{_ident(mart.schema)}.{_ident(mart.relation)}",
                params,
            )
            (rows,) = con.execute(f"select count(*) from pub.main.{_ident(mart.name)}").fetchone()
            published.append(PublishedMart(mart.name, rows, f"{mart.name}.parquet", tuple(masked)))
    finally:
        con.execute("detach wh")
    return published


def _masked(column: str, data_type: str) -> str:
    """The published form of a PII column: text (and lists of text) hashed with the key, else NULL."""
    if data_type == "VARCHAR":
        return f"sha256($key || {_ident(column)})"
    if data_type == "VARCHAR[]":
        return f"list_transform({_ident(column)}, lambda value: sha256($key || value))"
    return f"cast(null as {data_type})"


def _describe(
    con: duckdb.DuckDBPyConnection, marts: list[MartSpec], published: list[PublishedMart], version: str
) -> None:
    """Carry the dbt descriptions into the published file (BI tools show comments) and record the
    publication (version and row count per mart) in it."""
    statements = []
    for spec, mart in zip(marts, published, strict=True):
        table = f"pub.main.{_ident(mart.name)}"
        note = " Personal data hashed or masked: " + ", ".join(mart.masked_columns) + "." if mart.masked_columns else ""
        statements.append(f"comment on table {table} is {_literal(spec.description + note)}")
        columns = [r[0] for r in con.execute(f"select * from {table} limit 0").description]
        for column in columns:
            text = spec.column_descriptions.get(column, "")
            if column in mart.masked_columns:
                text = f"{text} (published hashed or masked)".strip()
            if text:
                statements.append(f"comment on column {table}.{_ident(column)} is {_literal(text)}")
    con.execute(";\n".join(["begin transaction", *statements, "commit"]))  # one commit, not one per comment
    con.execute(
        f"create table pub.main.{PUBLICATION_TABLE} (version varchar, mart varchar, row_count bigint, "
        "masked_columns varchar[])"
    )
    con.executemany(
        f"insert into pub.main.{PUBLICATION_TABLE} values (?, ?, ?, ?)",
        [[version, m.name, m.rows, list(m.masked_columns)] for m in published],
    )
    con.execute(
        f"comment on table pub.main.{PUBLICATION_TABLE} is "
        "'Which publication this file is (version) and how many rows each mart has in it.'"
    )


# -- helpers -------------------------------------------------------------------------------
@contextmanager
def _publish_lock(publish_dir: Path) -> Iterator[None]:
    """One publisher at a time per folder (readers never take it)."""
    with (publish_dir / ".publish.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(publish_dir: Path) -> None:
    """Partial files of a publication that failed or whose publisher died (we hold the lock, so none
    is being written): temporary DuckDB files and their WAL, version folders, links, manifests."""
    for path in [*publish_dir.glob(".*.partial*"), *(publish_dir / VERSIONS_DIR).glob(".*.partial")]:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _replace_symlink(link: Path, target: Path) -> None:
    temporary = link.with_name(f".{link.name}.{secrets.token_hex(4)}.partial")
    temporary.symlink_to(target, target_is_directory=True)
    temporary.replace(link)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    temporary.write_text(text)
    temporary.replace(path)


def _prune_versions(publish_dir: Path, keep: int) -> list[str]:
    versions = sorted(p.name for p in (publish_dir / VERSIONS_DIR).iterdir() if _VERSION.match(p.name))
    current = (publish_dir / PARQUET_LINK).readlink().name
    removed = [v for v in versions[:-keep] if v != current]
    for name in removed:
        shutil.rmtree(publish_dir / VERSIONS_DIR / name, ignore_errors=True)
    return removed


def _built_at(built_at: datetime | None, warehouse: Path) -> str:
    """When the published data was built: as given, else when the warehouse was last written."""
    moment = built_at or datetime.fromtimestamp(warehouse.stat().st_mtime, UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _pii_key() -> str:
    """Hex key mixed into hashed PII: from ``KITH_PUBLISH_PII_KEY`` (stable) or random (this publication)."""
    configured = os.environ.get(PII_KEY_ENV)
    if configured:
        return hashlib.sha256(f"kith-publish:{configured}".encode()).hexdigest()
    return secrets.token_hex(32)


def _duckdb_config() -> dict[str, str]:
    return {
        "memory_limit": os.environ.get("KITH_MEMORY_LIMIT", "6GB"),
        "threads": os.environ.get("KITH_THREADS", "2"),
    }


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
