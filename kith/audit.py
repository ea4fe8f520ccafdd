"""Reconciliation (``kith audit``): every row of every source followed from the landing files to raw,
staging and the marts, with every difference explained or reported.

Per source entity (``<system>.<entity>``):

- **landing**: the data lines in the landing files now (counted from the bytes, independently of
  the loader); lines of duplicate deliveries (a file byte-identical to one already loaded) are
  counted apart, as *duplicate delivery*.
- **loaded files**: what ``raw_<system>.loaded_files`` recorded per file: rows read = loaded +
  rejected, and rows read = the file's lines now + the lines an erasure emptied
  (``privacy.landing_rewrites``).
- **rejected**: rows in ``raw_<system>.rejected_rows`` = recorded rejected rows - erased ones.
- **raw**: append entities keep every loaded row (raw = loaded - erased, per file); mutable
  entities keep the latest version of each key (raw = distinct keys; loaded - erased - raw older
  versions are *superseded*). Every raw row is one line of a recorded file, never two copies of it.
- **staging**: one row per key (*resent* copies of an event are dropped: raw - distinct keys).
- **marts**: the facts built from the entity (orders, order lines, touchpoints) hold every staging
  row, except lines whose order or transaction header is missing (*orphans*) and rows loaded after
  the last build (*not built yet*); nothing else may be missing, and nothing may be extra.
- **identity**: every identifier the entity carries is in the id map or was refused with a reason
  (junk, shared, blocklisted).

Anything else is *unexplained*: ``kith audit`` lists it and exits 1. Landing files not ingested yet
are reported as pending (not an error). Writes ``<reports>/audit.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from kith.privacy.entities import PERSONAL_ENTITIES


@dataclass(frozen=True)
class MartSpec:
    """A fact built from a source entity: its rows (``where``) are keyed like the staging rows."""

    system: str
    entity: str
    mart: str
    where: str
    mart_key: str
    staging_key: str
    orphan: str | None = None  # a staging row the mart cannot hold (its header is missing)


MART_SPECS: tuple[MartSpec, ...] = (
    MartSpec("shop", "orders", "fct_orders", "order_channel = 'online'", "order_id", "order_id"),
    MartSpec("pos", "transactions", "fct_orders", "order_channel = 'store'", "order_id", "transaction_id"),
    MartSpec(
        "shop",
        "order_lines",
        "fct_order_lines",
        "order_channel = 'online'",
        "order_line_id",
        "order_line_id",
        "order_id not in (select order_id from staging.stg_shop__orders)",
    ),
    MartSpec(
        "pos",
        "transaction_lines",
        "fct_order_lines",
        "order_channel = 'store'",
        "order_line_id",
        "transaction_line_id",
        "transaction_id not in (select transaction_id from staging.stg_pos__transactions)",
    ),
    MartSpec("web", "events", "fct_touchpoints", "channel = 'web'", "touchpoint_id", "'web:' || event_id"),
    MartSpec("app", "events", "fct_touchpoints", "channel = 'app'", "touchpoint_id", "'app:' || event_id"),
    MartSpec(
        "pos", "transactions", "fct_touchpoints", "channel = 'store'", "touchpoint_id", "'store:' || transaction_id"
    ),
    MartSpec("qr", "scans", "fct_touchpoints", "channel = 'qr'", "touchpoint_id", "'qr:' || scan_id"),
    MartSpec(
        "helpdesk", "tickets", "fct_touchpoints", "channel = 'helpdesk'", "touchpoint_id", "'helpdesk:' || ticket_id"
    ),
    MartSpec(
        "consent", "events", "fct_touchpoints", "channel = 'consent'", "touchpoint_id", "'consent:' || consent_event_id"
    ),
)


@dataclass
class MartFlow:
    mart: str
    rows: int = 0
    orphans: int = 0
    not_built: int = 0
    missing: int = 0  # unexplained
    extra: int = 0  # unexplained


@dataclass
class IdentityFlow:
    identifier_type: str
    values: int = 0
    mapped: int = 0
    refused: int = 0
    unexplained: int = 0


@dataclass
class Flow:
    """One source entity from landing to marts."""

    system: str
    entity: str
    disposition: str
    files: int = 0
    files_pending: int = 0
    duplicate_files: int = 0
    landing_rows: int = 0
    duplicate_rows: int = 0
    erased: int = 0
    rejected: int = 0
    loaded: int = 0
    raw: int = 0
    superseded: int = 0
    resent: int = 0
    staging: int | None = None
    marts: list[MartFlow] = field(default_factory=list)
    identity: list[IdentityFlow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.system}.{self.entity}"


@dataclass
class Audit:
    flows: list[Flow]
    pending_files: list[str]
    erasures: int
    queued_removals: int

    @property
    def problems(self) -> list[str]:
        return [f"{f.name}: {p}" for f in self.flows for p in f.problems]

    def as_json(self) -> dict:
        return {
            "flows": [asdict(f) | {"name": f.name} for f in self.flows],
            "pending_files": self.pending_files,
            "erasures": self.erasures,
            "queued_removals": self.queued_removals,
            "unexplained": self.problems,
        }


def count_data_lines(path: Path, header: bool) -> int:
    """Rows in a landing file, from its bytes: lines with content, less the CSV header."""
    lines = 0
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                lines += 1
    return max(lines - (1 if header and lines else 0), 0)


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (n,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(n)


def _staging_view(con: duckdb.DuckDBPyConnection, system: str, entity: str) -> str | None:
    """The staging view reading ``raw_<system>.<entity>`` (found in the views' SQL, not assumed)."""
    pattern = re.compile(rf'\braw_{system}\.("?){entity}\1(?![\w"])')
    for name, sql in con.execute("select view_name, sql from duckdb_views() where schema_name = 'staging'").fetchall():
        if pattern.search(sql):
            return name
    return None


def audit(landing: Path, warehouse: Path) -> Audit:
    """Reconcile every source entity (see the module documentation)."""
    from pipelines.ingest import open_warehouse
    from pipelines.landing import discover
    from pipelines.sources import SYSTEMS, entities

    con = open_warehouse(warehouse, read_only=True)
    try:
        rewrites = _rewrites(con)
        flows, pending = [], []
        for system in SYSTEMS:
            recorded = _recorded(con, system)
            rejected = _rejected_per_file(con, system)
            for definition in entities(system):
                flow = Flow(system, definition.name, definition.disposition)
                flows.append(flow)
                files = {p.relative_to(landing).as_posix(): p for p in discover(landing, definition)}
                pending += _landing(flow, files, recorded, rewrites, rejected, definition.format == "csv")
                if _has(con, f"raw_{system}", definition.name):
                    _raw(con, flow, definition.primary_key, recorded, rewrites)
                    _staging(con, flow, definition.primary_key)
                _marts(con, flow)
                _identity(con, flow)
        erasures = _count(con, "privacy", "erasure_log", "true")
        queued = _count(con, "activation", "sync_outbox", "starts_with(sync_id, 'erasure:')")
    finally:
        con.close()
    return Audit(flows, pending, erasures, queued)


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str, where: str) -> int:
    if not _has(con, schema, table):
        return 0
    return con.execute(f"select count(*) from {schema}.{table} where {where}").fetchone()[0]


def _rewrites(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per landing file: lines emptied by erasures, and of those, loaded and rejected rows."""
    if not _has(con, "privacy", "landing_rewrites"):
        return {}
    rows = con.execute(
        """
        select file_path, sum(lines_erased), sum(rows_loaded_erased), sum(rows_rejected_erased),
            list(rewritten_sha256), bool_and(rewritten_at is not null)
        from privacy.landing_rewrites group by 1
        """
    ).fetchall()
    return {
        path: {"lines": lines, "loaded": loaded, "rejected": rejected, "shas": shas, "done": done}
        for path, lines, loaded, rejected, shas, done in rows
    }


def _recorded(con: duckdb.DuckDBPyConnection, system: str) -> dict[str, dict]:
    if not _has(con, f"raw_{system}", "loaded_files"):
        return {}
    rows = con.execute(
        f"""
        select file_path, entity, list(file_sha256), sum(rows_read), sum(rows_loaded), sum(rows_rejected),
            count(*), any_value(duplicate_of)
        from raw_{system}.loaded_files group by 1, 2
        """
    ).fetchall()
    return {
        path: {
            "entity": entity,
            "shas": shas,
            "read": read,
            "loaded": loaded,
            "rejected": rejected,
            "records": records,
            "duplicate_of": duplicate_of,
        }
        for path, entity, shas, read, loaded, rejected, records, duplicate_of in rows
    }


def _rejected_per_file(con: duckdb.DuckDBPyConnection, system: str) -> dict[str, int]:
    if not _has(con, f"raw_{system}", "rejected_rows"):
        return {}
    return dict(con.execute(f"select file_path, count(*) from raw_{system}.rejected_rows group by 1").fetchall())


def _landing(flow: Flow, files: dict[str, Path], recorded, rewrites, rejected_rows, header: bool) -> list[str]:
    """Landing lines against the loaded-files record, file by file; returns the files not loaded yet."""
    from pipelines.landing import sha256_of

    pending = []
    for path, (record) in sorted(recorded.items()):
        if record["entity"] == flow.entity and path.startswith(flow.system + "/") and path not in files:
            flow.problems.append(f"{path} was loaded but is missing from the landing folder")
    for path, file in sorted(files.items()):
        record = recorded.get(path)
        if record is None:
            pending.append(path)
            flow.files_pending += 1
            continue
        flow.files += 1
        if record["records"] > 1:
            flow.problems.append(f"{path} is recorded {record['records']} times in loaded_files")
        erased = rewrites.get(path, {"lines": 0, "loaded": 0, "rejected": 0, "shas": [], "done": True})
        if sha256_of(file) not in [*record["shas"], *erased["shas"]]:
            flow.problems.append(f"{path} changed after it was loaded (its content hash is not the recorded one)")
            continue
        if not erased["done"]:
            flow.problems.append(f"{path}: an erasure has not finished rewriting it (run `kith ingest`)")
        lines = count_data_lines(file, header)
        if record["duplicate_of"]:
            flow.duplicate_files += 1
            flow.duplicate_rows += lines
            continue
        flow.landing_rows += lines
        flow.erased += erased["lines"]
        flow.loaded += record["loaded"] - erased["loaded"]
        flow.rejected += record["rejected"] - erased["rejected"]
        if record["read"] != record["loaded"] + record["rejected"]:
            flow.problems.append(
                f"{path}: {record['read']} rows read but {record['loaded']} loaded + {record['rejected']} rejected"
            )
        if lines + erased["lines"] != record["read"]:
            flow.problems.append(
                f"{path}: {lines} data lines in the file + {erased['lines']} erased, but {record['read']} were read"
            )
        if rejected_rows.get(path, 0) != record["rejected"] - erased["rejected"]:
            flow.problems.append(
                f"{path}: {rejected_rows.get(path, 0)} rows in rejected_rows, expected "
                f"{record['rejected'] - erased['rejected']}"
            )
    return pending


def _raw(con: duckdb.DuckDBPyConnection, flow: Flow, primary_key, recorded, rewrites) -> None:
    table = f"raw_{flow.system}.{flow.entity}"
    key = ", ".join(primary_key)
    flow.raw, distinct_keys, distinct_lines, unrecorded = con.execute(
        f"""
        select count(*), count(distinct ({key})), count(distinct (_kith_file, _kith_line)),
            count(*) filter (where _kith_file not in (select unnest(?::varchar[])))
        from {table}
        """,
        [list(recorded)],
    ).fetchone()
    if distinct_lines != flow.raw:
        flow.problems.append(f"{flow.raw - distinct_lines} raw rows are second copies of a landing line")
    if unrecorded:
        flow.problems.append(f"{unrecorded} raw rows come from files not recorded in loaded_files")
    if flow.disposition == "append":
        per_file = dict(con.execute(f"select _kith_file, count(*) from {table} group by 1").fetchall())
        for path, record in recorded.items():
            if record["entity"] != flow.entity or record["duplicate_of"]:
                continue
            expected = record["loaded"] - rewrites.get(path, {}).get("loaded", 0)
            if per_file.get(path, 0) != expected:
                flow.problems.append(f"{path}: {per_file.get(path, 0)} raw rows, expected {expected} loaded")
        if flow.raw != flow.loaded:
            flow.problems.append(f"raw holds {flow.raw} rows but {flow.loaded} were loaded")
    else:
        if distinct_keys != flow.raw:
            flow.problems.append(f"{flow.raw - distinct_keys} raw rows repeat a key of a mutable record")
        flow.superseded = flow.loaded - flow.raw
        if flow.superseded < 0:
            flow.problems.append(f"raw holds {flow.raw} rows, more than the {flow.loaded} loaded")


def _staging(con: duckdb.DuckDBPyConnection, flow: Flow, primary_key) -> None:
    view = _staging_view(con, flow.system, flow.entity)
    if view is None:
        return
    flow.staging = con.execute(f"select count(*) from staging.{view}").fetchone()[0]
    key = ", ".join(primary_key)
    (distinct_keys,) = con.execute(f"select count(distinct ({key})) from raw_{flow.system}.{flow.entity}").fetchone()
    flow.resent = flow.raw - flow.staging
    if flow.staging != distinct_keys:
        flow.problems.append(f"staging.{view} holds {flow.staging} rows, expected {distinct_keys} (one per key)")


def _marts(con: duckdb.DuckDBPyConnection, flow: Flow) -> None:
    for spec in MART_SPECS:
        if (spec.system, spec.entity) != (flow.system, flow.entity) or not _has(con, "marts", spec.mart):
            continue
        view = _staging_view(con, flow.system, flow.entity)
        if view is None:
            continue
        orphan = spec.orphan or "false"
        rows, orphans, missing, not_built, extra = con.execute(
            f"""
            with mart as (
                select {spec.mart_key} as key from marts.{spec.mart} where {spec.where}
            ),
            stg as (
                select {spec.staging_key} as key, dlt_loaded_at, {orphan} as is_orphan from staging.{view}
            ),
            seen as (
                select max(stg.dlt_loaded_at) as until from stg where stg.key in (select key from mart)
            ),
            missing as (
                select stg.* from stg where stg.key not in (select key from mart)
            )
            select
                (select count(*) from mart),
                (select count(*) from missing where is_orphan),
                (select count(*) from missing where not is_orphan),
                (select count(*) from missing, seen where not is_orphan and missing.dlt_loaded_at > seen.until),
                (select count(*) from mart where key not in (select key from stg))
            """
        ).fetchone()
        mart = MartFlow(f"marts.{spec.mart}", rows, orphans, not_built, missing - not_built, extra)
        flow.marts.append(mart)
        if mart.missing:
            flow.problems.append(f"{mart.missing} staging rows are missing from {mart.mart} ({spec.where})")
        if mart.extra:
            flow.problems.append(f"{mart.extra} rows of {mart.mart} ({spec.where}) have no staging row")


def _identity(con: duckdb.DuckDBPyConnection, flow: Flow) -> None:
    if not (_has(con, "marts", "dim_customer_identifiers") and _has(con, "intermediate", "int_identity_nodes")):
        return
    entity = next((e for e in PERSONAL_ENTITIES if (e.system, e.entity) == (flow.system, flow.entity)), None)
    if entity is None or not _has(con, "staging", entity.staging):
        return
    for identifier_type, column in entity.ties:
        values, mapped, refused = con.execute(
            f"""
            with seen as (
                select distinct {column} as value from staging.{entity.staging}
                where {column} is not null and {column} <> ''
            )
            select
                count(*),
                count(*) filter (where value in (
                    select identifier_value from marts.dim_customer_identifiers where identifier_type = $type
                )),
                count(*) filter (where value in (
                    select identifier_value from intermediate.int_identity_nodes
                    where identifier_type = $type and exclusion_reason is not null
                    union all
                    select identifier_value from intermediate.int_identifiers_unioned
                    where identifier_type = $type and is_junk
                ))
            from seen
            """,
            {"type": identifier_type},
        ).fetchone()
        found = IdentityFlow(identifier_type, values, mapped, refused, values - mapped - refused)
        flow.identity.append(found)
        if found.unexplained:
            flow.problems.append(
                f"{found.unexplained} {identifier_type} value(s) of staging.{entity.staging}.{column} are neither "
                "in the id map nor refused with a reason"
            )


def write_report(result: Audit, reports: Path) -> Path:
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "audit.json"
    path.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    return path
