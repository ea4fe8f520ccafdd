"""Erasing one person from everything Kith holds (``kith forget``, GDPR art. 17 / CCPA deletion).

1. **Who**: the typed email, phone, loyalty number, CRM or shop id, or customer id is resolved as
   ``kith profile`` resolves it (the warehouse's own normalisation macros); the person is the
   customer it finds, with every identifier of that customer in the id map, the customer ids the
   person had before a merge, and their identity-graph nodes.
2. **Which records**: for every personal entity (:mod:`kith.privacy.entities`), the raw rows tied to
   one of those identifiers through the staging views (lineage ``kith_file``/``kith_line``), then
   every raw row and every landing line with the same record key (resent events, older versions of
   mutable records, duplicate deliveries); and the rejected rows whose raw text holds one of the
   identifiers (emails and phones normalised by the warehouse macros, other ids as tokens).
3. **Erase**, crash-safe: rewritten landing files are prepared beside the originals; then one
   transaction deletes the raw and rejected rows, deletes every row of every other table
   (intermediate, marts, snapshots, the identity graph, the id registry, dlt staging) that holds one
   of the person's customer ids, identifier values, record ids or graph nodes, queues removes for
   the activation destinations (:mod:`kith.privacy.activation`), and records the erasure in the
   ``privacy`` schema (a hash of the request, the time, counts: no personal data); then the landing
   files are swapped in (:mod:`kith.privacy.landing`).
4. **Leave no copy**: the loaded packages dlt kept on disk are deleted, the warehouse file is
   rewritten (``COPY FROM DATABASE``) so deleted rows do not linger in free blocks, the BI
   publication is republished with a single version, and every table is searched for the person's
   identifiers: anything found is reported and makes the command fail.

The next ``kith ingest`` and ``kith build`` cannot bring the person back: the landing files no longer
hold them, the rewritten files are recorded as loaded, and the id registry and snapshots no longer
know their ids.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from kith.config import Paths, UserError
from kith.privacy.activation import pending_removals, queue_removals
from kith.privacy.entities import PERSONAL_ENTITIES, PersonalEntity, email_form_column
from kith.privacy.landing import (
    Rewrite,
    complete_pending_rewrites,
    discard_temporaries,
    mark_rewritten,
    prepare,
    swap_in,
)
from kith.privacy.schema import SCHEMA, ensure_schema

log = logging.getLogger(__name__)

# Schemas an erasure never deletes from: reference data, the erasure records themselves, and the
# activation state (handled by queue_removals, which must keep the removes it queues).
KEEP_SCHEMAS = frozenset({"seeds", SCHEMA, "activation", "functions", "information_schema", "pg_catalog"})
# Identifier values shorter than this are not searched for as text (too likely to occur by chance).
MIN_SEARCH_CHARS = 6


@dataclass
class ErasureReport:
    erasure_id: str
    request_sha256: str
    customers: list[tuple[str, str]]  # (customer id, how the request matched)
    identifiers: int = 0
    landing_lines: int = 0
    landing_files: int = 0
    raw_rows: dict[str, int] = field(default_factory=dict)  # raw table -> rows (rejected rows included)
    warehouse_rows: dict[str, int] = field(default_factory=dict)  # other tables -> rows
    activation: dict[str, int] = field(default_factory=dict)
    queued_removals: list[tuple[str, str, int]] = field(default_factory=list)
    residue: list[tuple[str, int]] = field(default_factory=list)  # table -> rows still holding an identifier
    compacted: bool = False
    republished: str | None = None  # the BI publication folder, when republished
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


def request_hash(text: str) -> str:
    """What the log keeps of a request: SHA-256 of the text as typed, trimmed."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def forget(paths: Paths, request: str, *, dry_run: bool = False, compact: bool = True) -> ErasureReport:
    """Erase the person ``request`` identifies; see the module documentation for every step."""
    from pipelines.ingest import open_warehouse, warehouse_lock

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist: there is nothing to erase")
    with warehouse_lock(paths.warehouse, "kith forget"):
        if paths.landing.is_dir():
            complete_pending_rewrites(paths.landing, paths.warehouse)
        _check_ready(paths)
        con = open_warehouse(paths.warehouse)
        try:
            con.execute("set TimeZone = 'UTC'")
            report = _resolve(con, request)
            report.dry_run = dry_run
            rewrites = _collect(con, paths.landing, report)
            search = _search_values(con)
            if dry_run:
                _count_dry_run(con, report)
                return report
            if rewrites:
                prepare(paths.landing, rewrites)
            now = datetime.now(UTC)
            con.execute("begin transaction")
            try:
                _erase_in_warehouse(con, report, rewrites, now)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                if paths.landing.is_dir():
                    discard_temporaries(paths.landing)
                raise
        finally:
            con.close()
        if rewrites:
            swap_in(paths.landing, rewrites)
        con = open_warehouse(paths.warehouse)
        try:
            mark_rewritten(con, report.erasure_id, rewrites)
            report.queued_removals = pending_removals(con)
            report.residue = find_residue(con, search)
        finally:
            con.close()
        _purge_dlt_packages(paths.warehouse)
        if compact:
            compact_warehouse(paths.warehouse)
            report.compacted = True
    _republish(paths, report)
    return report


# -- preconditions and resolution ------------------------------------------------------------
def _check_ready(paths: Paths) -> None:
    from pipelines.ingest import unloaded_files

    pending = _pending_dlt_packages(paths.warehouse)
    if pending:
        raise UserError(f"an interrupted ingest left {len(pending)} load package(s) to finish: run `kith ingest` first")
    if paths.landing.is_dir():
        missing = unloaded_files(paths.landing, paths.warehouse)
        if missing:
            raise UserError(
                f"{len(missing)} landing file(s) are not loaded yet (e.g. {missing[0]}): run `kith ingest` and "
                "`kith build` first, so that the person's records in them are found too"
            )


def _resolve(con: duckdb.DuckDBPyConnection, request: str) -> ErasureReport:
    from kith.profile import ProfileNotFoundError, explain_not_found, find_customers

    try:
        matches = find_customers(con, request)
    except ProfileNotFoundError as exc:
        raise UserError(str(exc)) from None
    customers = sorted({m.customer_id for m in matches})
    if not customers:
        raise UserError(explain_not_found(con, request) + "; nothing was erased")
    if len(customers) > 1:
        found = ", ".join(f"{m.customer_id} (as {m.matched_as})" for m in matches)
        raise UserError(
            f"{request!r} matches {len(customers)} customers: {found}; nothing was erased: forget them one "
            "by one by customer id"
        )
    return ErasureReport(
        erasure_id=uuid.uuid4().hex,
        request_sha256=request_hash(request),
        customers=[(m.customer_id, m.matched_as) for m in matches[:1]],
    )


# -- what to erase -----------------------------------------------------------------------------
def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (n,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(n)


def _collect(con: duckdb.DuckDBPyConnection, landing: Path, report: ErasureReport) -> list[Rewrite]:
    """Fill the temp tables that say what to erase; return the landing rewrites."""
    con.execute("create or replace temp table _forget_customers (customer_id varchar primary key)")
    con.execute("insert into _forget_customers select unnest(?::varchar[])", [[c for c, _ in report.customers]])
    con.execute(
        """
        create or replace temp table _forget_ids as
        select distinct identifier_type, identifier_value from marts.dim_customer_identifiers
        where customer_id in (select customer_id from _forget_customers)
        """
    )
    _add_former_customer_ids(con)
    report.identifiers = con.execute("select count(*) from _forget_ids").fetchone()[0]
    con.execute("create or replace temp table _forget_nodes (node_id bigint)")
    if _has(con, "intermediate", "int_identity_nodes"):
        con.execute(
            """
            insert into _forget_nodes
            select node_id from intermediate.int_identity_nodes as nodes
            where exists (
                select 1 from _forget_ids as ids
                where ids.identifier_type = nodes.identifier_type and ids.identifier_value = nodes.identifier_value
            )
            """
        )
    con.execute("create or replace temp table _forget_values (value varchar)")
    con.execute(
        """
        insert into _forget_values
        select customer_id from _forget_customers union select identifier_value from _forget_ids
        """
    )
    con.execute(
        "create or replace temp table _forget_lines (file_path varchar, line_number bigint, is_rejected boolean)"
    )
    for index, entity in enumerate(PERSONAL_ENTITIES):
        _collect_entity(con, landing, entity, index)
    for system in sorted({e.system for e in PERSONAL_ENTITIES}):
        _collect_rejected(con, system)
    con.execute("create or replace temp table _forget_values_distinct as select distinct value from _forget_values")
    return _plan_rewrites(con, landing)


def _add_former_customer_ids(con: duckdb.DuckDBPyConnection) -> None:
    """Customer ids the person had before a merge (snapshots, the id registry) and nobody has now."""
    sources = []
    if _has(con, "snapshots", "snap_customer_identifiers"):
        sources.append(
            """
            select snap.customer_id from snapshots.snap_customer_identifiers as snap
            inner join _forget_ids as ids
                on ids.identifier_type = snap.identifier_type and ids.identifier_value = snap.identifier_value
            """
        )
    if _has(con, "intermediate", "int_customer_id_registry"):
        sources.append(
            """
            select registry.customer_id from intermediate.int_customer_id_registry as registry
            inner join _forget_ids as ids
                on ids.identifier_type = registry.anchor_identifier_type
                and ids.identifier_value = registry.anchor_identifier_value
            """
        )
    if not sources:
        return
    con.execute(
        f"""
        insert into _forget_customers
        select distinct customer_id from ({" union ".join(sources)}) as former
        where customer_id not in (select customer_id from _forget_customers)
            and customer_id not in (select customer_id from marts.dim_customers)
        """
    )


def _primary_key(entity: PersonalEntity) -> tuple[str, ...]:
    from pipelines.sources import entities

    return next(e for e in entities(entity.system) if e.name == entity.entity).primary_key


def _collect_entity(con: duckdb.DuckDBPyConnection, landing: Path, entity: PersonalEntity, index: int) -> None:
    """The entity's record keys tied to the person, and every line holding one of them."""
    from pipelines.sources import entities

    if not (_has(con, "staging", entity.staging) and _has(con, f"raw_{entity.system}", entity.entity)):
        return
    pk = _primary_key(entity)
    keys = f"_forget_keys_{index}"
    ties = " or ".join(
        f"stg.{column} in (select identifier_value from _forget_ids where identifier_type = ?)"
        for _, column in entity.ties
    )
    con.execute(
        f"""
        create or replace temp table {keys} as
        select distinct {", ".join(f"raw.{c}" for c in pk)}
        from {entity.raw_table} as raw
        inner join staging.{entity.staging} as stg
            on stg.kith_file = raw._kith_file and stg.kith_line = raw._kith_line
        where {ties}
        """,
        [identifier_type for identifier_type, _ in entity.ties],
    )
    match = " and ".join(f"k.{c} = raw.{c}" for c in pk)
    con.execute(
        f"""
        insert into _forget_lines
        select raw._kith_file, raw._kith_line, false from {entity.raw_table} as raw
        where exists (select 1 from {keys} as k where {match})
        """
    )
    # record ids as identity resolution writes them ('<system>.<entity>:<key>')
    if len(pk) == 1:
        con.execute(
            f"insert into _forget_values select ? || {pk[0]}::varchar from {keys}",
            [f"{entity.system}.{entity.entity}:"],
        )
    for identifier_type, column in entity.ties:
        form = email_form_column(column)
        if identifier_type == "email" and form:
            con.execute(
                f"""
                insert into _forget_values
                select distinct stg.{form} from staging.{entity.staging} as stg
                where stg.{column} in (select identifier_value from _forget_ids where identifier_type = 'email')
                    and stg.{form} is not null
                """
            )
    definition = next(e for e in entities(entity.system) if e.name == entity.entity)
    if definition.disposition == "merge" and landing.is_dir():
        _scan_landing(con, landing, definition, keys)


def _scan_landing(con: duckdb.DuckDBPyConnection, landing: Path, definition, keys: str) -> None:
    """Lines of a mutable entity's files holding a tied key: older versions of a record are in the
    landing files only (raw keeps the latest), and must go too."""
    from pipelines.landing import EntityReader, batches, describe, discover, parser_connection

    wanted = con.sql(f"select * from {keys}").to_arrow_table()
    if wanted.num_rows == 0:
        return
    pk = definition.primary_key
    parser = parser_connection("1GB")
    try:
        reader = EntityReader(definition, landing, parser, latest=datetime(9999, 1, 1, tzinfo=UTC))
        found: list[tuple[str, int]] = []
        for group in batches(describe(landing, discover(landing, definition))):
            rows = reader.read(group).rows
            if rows.num_rows == 0:
                continue
            if len(pk) == 1:
                mask = pc.is_in(rows.column(pk[0]), value_set=wanted.column(pk[0]))
            else:
                wanted_keys = set(zip(*(wanted.column(c).to_pylist() for c in pk), strict=True))
                mask = pa.array([k in wanted_keys for k in zip(*(rows.column(c).to_pylist() for c in pk), strict=True)])
            hits = rows.filter(mask)
            found += zip(hits.column("_kith_file").to_pylist(), hits.column("_kith_line").to_pylist(), strict=True)
    finally:
        parser.close()
    if found:
        con.execute(
            "insert into _forget_lines select unnest(?::varchar[]), unnest(?::bigint[]), false",
            [[f for f, _ in found], [n for _, n in found]],
        )


def _collect_rejected(con: duckdb.DuckDBPyConnection, system: str) -> None:
    """Rejected rows whose raw text holds one of the person's identifiers."""
    if not _has(con, f"raw_{system}", "rejected_rows"):
        return
    con.execute(
        f"""
        insert into _forget_lines
        with ids as (
            select
                list(identifier_value) filter (where identifier_type = 'email') as emails,
                list(identifier_value) filter (where identifier_type = 'phone') as phones,
                list(identifier_value) filter (where identifier_type = 'loyalty_number') as loyalty_numbers,
                list(identifier_value) filter (where identifier_type not in ('email', 'phone')) as tokens
            from _forget_ids
        ),
        candidates as (
            select
                rejected.file_path,
                rejected.line_number,
                regexp_extract_all(lower(rejected.raw_record), '[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)+')
                    as emails,
                regexp_extract_all(rejected.raw_record, '\\+?[0-9][0-9 ()./-]{{4,}}[0-9]') as numbers,
                regexp_split_to_array(rejected.raw_record, '[^A-Za-z0-9_-]+') as tokens
            from raw_{system}.rejected_rows as rejected
        )
        select candidates.file_path, candidates.line_number, true
        from candidates, ids
        where list_has_any(list_transform(candidates.emails, lambda e: functions.canonical_email(e)), ids.emails)
            or list_has_any(
                list_transform(candidates.numbers, lambda n: functions.normalize_phone_e164(n)), ids.phones
            )
            or list_has_any(
                list_transform(candidates.numbers, lambda n: functions.normalize_loyalty_number(n)),
                ids.loyalty_numbers
            )
            or list_has_any(candidates.tokens, ids.tokens)
        """
    )


def _plan_rewrites(con: duckdb.DuckDBPyConnection, landing: Path) -> list[Rewrite]:
    """One rewrite per landing file holding the person's lines, duplicate deliveries included."""
    from pipelines.landing import sha256_of

    files = {}
    for system in sorted({e.system for e in PERSONAL_ENTITIES}):
        if _has(con, f"raw_{system}", "loaded_files"):
            for path, entity, duplicate_of in con.execute(
                f"select distinct file_path, entity, duplicate_of from raw_{system}.loaded_files"
            ).fetchall():
                files[path] = (system, entity, duplicate_of)
    lines: dict[str, dict[int, bool]] = defaultdict(dict)
    for path, number, rejected in con.execute(
        "select file_path, line_number, bool_or(is_rejected) from _forget_lines group by 1, 2"
    ).fetchall():
        lines[path][number] = rejected
    for path, (_, _, original) in files.items():  # a duplicate delivery holds the same lines
        if original and original in lines:
            lines[path].update(lines[original])
    rewrites = []
    for path in sorted(lines):
        if path not in files or not (landing / path).is_file():
            continue
        system, entity, duplicate_of = files[path]
        chosen = lines[path]
        rewrites.append(
            Rewrite(
                system=system,
                entity=entity,
                file_path=path,
                original_sha256=sha256_of(landing / path),
                lines=sorted(chosen),
                is_duplicate_delivery=duplicate_of is not None,
                rows_rejected_erased=0 if duplicate_of else sum(chosen.values()),
            )
        )
    return rewrites


# -- erasing ---------------------------------------------------------------------------------
def _erase_in_warehouse(
    con: duckdb.DuckDBPyConnection, report: ErasureReport, rewrites: list[Rewrite], now: datetime
) -> None:
    ensure_schema(con)
    report.landing_files = len(rewrites)
    report.landing_lines = sum(len(r.lines) for r in rewrites)
    for index, entity in enumerate(PERSONAL_ENTITIES):
        keys = f"_forget_keys_{index}"
        if not _has_temp(con, keys):
            continue
        pk = _primary_key(entity)
        match = " and ".join(f"k.{c} = raw.{c}" for c in pk)
        (n,) = con.execute(
            f"""
            delete from {entity.raw_table} as raw
            where exists (select 1 from {keys} as k where {match})
                or exists (
                    select 1 from _forget_lines as l
                    where l.file_path = raw._kith_file and l.line_number = raw._kith_line
                )
            """
        ).fetchone()
        _count(report.raw_rows, entity.raw_table, n)
    for system in sorted({e.system for e in PERSONAL_ENTITIES}):
        if _has(con, f"raw_{system}", "rejected_rows"):
            (n,) = con.execute(
                f"""
                delete from raw_{system}.rejected_rows as r
                where exists (
                    select 1 from _forget_lines as l where l.file_path = r.file_path and l.line_number = r.line_number
                )
                """
            ).fetchone()
            _count(report.raw_rows, f"raw_{system}.rejected_rows", n)
    for schema, table, n in sweep(con):
        target = report.raw_rows if schema.startswith("raw_") else report.warehouse_rows
        _count(target, f"{schema}.{table}", n)
    report.activation = {k: v for k, v in queue_removals(con, report.erasure_id, now).items() if v}
    con.execute(
        f"insert into {SCHEMA}.erasure_log values (?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.erasure_id,
            report.request_sha256,
            now,
            "landing_pending" if rewrites else "completed",
            len(report.customers),
            report.landing_lines,
            report.landing_files,
            sum(report.raw_rows.values()),
            sum(report.warehouse_rows.values()),
            report.activation.get("sync_outbox", 0),
        ],
    )
    if not rewrites:
        con.execute(f"update {SCHEMA}.erasure_log set completed_at = ? where erasure_id = ?", [now, report.erasure_id])
    for r in rewrites:
        con.execute(
            f"insert into {SCHEMA}.landing_rewrites values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
            [
                report.erasure_id,
                r.system,
                r.entity,
                r.file_path,
                r.original_sha256,
                r.rewritten_sha256,
                r.rewritten_size_bytes,
                r.is_duplicate_delivery,
                len(r.lines),
                r.rows_loaded_erased,
                r.rows_rejected_erased,
                r.lines,
            ],
        )
    counted = {
        **report.raw_rows,
        **report.warehouse_rows,
        **{f"activation.{k}": v for k, v in report.activation.items()},
    }
    for name, n in sorted(counted.items()):
        schema, _, table = name.partition(".")
        con.execute(f"insert into {SCHEMA}.erased_rows values (?, ?, ?, ?)", [report.erasure_id, schema, table, n])


def _has_temp(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    (n,) = con.execute("select count(*) from duckdb_tables() where temporary and table_name = ?", [name]).fetchone()
    return bool(n)


def _count(target: dict[str, int], name: str, n: int) -> None:
    if n:
        target[name] = target.get(name, 0) + n


def _tables(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every base table outside the kept schemas, with its (column, type)."""
    columns: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for schema, table, column, data_type in con.execute(
        """
        select c.schema_name, c.table_name, c.column_name, c.data_type
        from duckdb_columns() as c
        inner join duckdb_tables() as t on t.schema_name = c.schema_name and t.table_name = c.table_name
            and t.database_name = c.database_name
        where not t.internal and not t.temporary and t.database_name = current_database()
        order by c.schema_name, c.table_name, c.column_index
        """
    ).fetchall():
        if schema in KEEP_SCHEMAS or table.startswith("_dlt"):
            continue
        columns[(schema, table)].append((column, data_type))
    return columns


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sweep(con: duckdb.DuckDBPyConnection) -> Iterable[tuple[str, str, int]]:
    """Delete, from every table outside the kept schemas, the rows that hold one of the person's
    values (``_forget_values``: customer ids, identifiers, record ids) in a text column or a list of
    text, or one of their identity-graph nodes (``_forget_nodes``) in a ``node_id`` column."""
    for (schema, table), columns in _tables(con).items():
        conditions = []
        for column, data_type in columns:
            name = _quote(column)
            if data_type == "VARCHAR":
                conditions.append(f"{name} in (select value from _forget_values_distinct)")
            elif data_type == "VARCHAR[]":
                conditions.append(f"list_has_any({name}, (select list(value) from _forget_values_distinct))")
            elif data_type == "BIGINT" and column.startswith("node_id"):
                conditions.append(f"{name} in (select node_id from _forget_nodes)")
        if not conditions:
            continue
        (n,) = con.execute(f"delete from {_quote(schema)}.{_quote(table)} where {' or '.join(conditions)}").fetchone()
        if n:
            yield schema, table, n


def _count_dry_run(con: duckdb.DuckDBPyConnection, report: ErasureReport) -> None:
    """What an erasure would delete, counted in a transaction that is rolled back."""
    con.execute("begin transaction")
    try:
        lines = con.execute("select count(distinct (file_path, line_number)) from _forget_lines").fetchone()[0]
        report.landing_lines = lines
        report.landing_files = con.execute("select count(distinct file_path) from _forget_lines").fetchone()[0]
        for index, entity in enumerate(PERSONAL_ENTITIES):
            keys = f"_forget_keys_{index}"
            if _has_temp(con, keys):
                pk = _primary_key(entity)
                match = " and ".join(f"k.{c} = raw.{c}" for c in pk)
                (n,) = con.execute(
                    f"select count(*) from {entity.raw_table} as raw "
                    f"where exists (select 1 from {keys} as k where {match})"
                ).fetchone()
                _count(report.raw_rows, entity.raw_table, n)
        for schema, table, n in sweep(con):
            if not schema.startswith("raw_"):
                _count(report.warehouse_rows, f"{schema}.{table}", n)
    finally:
        con.execute("rollback")


# -- verifying ------------------------------------------------------------------------------
def _search_values(con: duckdb.DuckDBPyConnection) -> list[str]:
    values = con.execute(
        "select distinct lower(value) from _forget_values_distinct where length(value) >= ?", [MIN_SEARCH_CHARS]
    ).fetchall()
    return sorted(v for (v,) in values)


def find_residue(con: duckdb.DuckDBPyConnection, values: list[str]) -> list[tuple[str, int]]:
    """Tables (outside the privacy records) with rows whose text holds one of ``values``; the removes
    queued for activation destinations are expected and not counted."""
    if not values:
        return []
    pattern = "|".join(re.escape(v) for v in values)
    found = []
    tables = con.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where not internal and not temporary and database_name = current_database() and schema_name not in (?, ?)
        order by 1, 2
        """,
        [SCHEMA, "seeds"],
    ).fetchall()
    for schema, table in tables:
        exclude = (
            "where not starts_with(sync_id, 'erasure:')" if (schema, table) == ("activation", "sync_outbox") else ""
        )
        relation = f"(select * from {_quote(schema)}.{_quote(table)} {exclude}) as t"
        (n,) = con.execute(
            f"select count(*) from {relation} where regexp_matches(lower(cast(t as varchar)), ?)", [pattern]
        ).fetchone()
        if n:
            found.append((f"{schema}.{table}", n))
    return found


# -- leaving no copy ------------------------------------------------------------------------
def _dlt_folder(warehouse: Path) -> Path:
    return warehouse.parent / ".dlt" / warehouse.stem


def _pending_dlt_packages(warehouse: Path) -> list[Path]:
    folder = _dlt_folder(warehouse)
    pending = []
    for stage in ("normalize/extracted", "load/normalized"):
        for pipeline in folder.glob("kith_*"):
            stage_dir = pipeline / stage
            if stage_dir.is_dir():
                pending += [p for p in stage_dir.iterdir() if p.is_dir()]
    return pending


def _purge_dlt_packages(warehouse: Path) -> None:
    """dlt keeps loaded packages (with their data files, unless told otherwise) beside the warehouse."""
    for package in _dlt_folder(warehouse).glob("kith_*/load/loaded/*"):
        shutil.rmtree(package, ignore_errors=True)


def compact_warehouse(warehouse: Path) -> None:
    """Rewrite the warehouse into a new file and swap it in: DuckDB leaves deleted rows' bytes in
    free blocks until they are reused, the copy holds only live rows. Crash-safe: the original is
    replaced only by a complete copy (``os.replace``)."""
    import os

    copy = warehouse.with_name(warehouse.name + ".compacting")
    for leftover in (copy, copy.with_name(copy.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("checkpoint")
        source = con.execute("select current_database()").fetchone()[0]
        con.execute("attach ? as kith_compacted", [str(copy)])
        con.execute(f"copy from database {_quote(source)} to kith_compacted")
        con.execute("checkpoint kith_compacted")
        con.execute("detach kith_compacted")
    finally:
        con.close()
    if copy.with_name(copy.name + ".wal").exists():  # everything must be in the one file swapped in
        raise RuntimeError(f"{copy} was not checkpointed; the warehouse was left as it was")
    with copy.open("rb") as handle:
        os.fsync(handle.fileno())
    copy.replace(warehouse)
    warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)


def _republish(paths: Paths, report: ErasureReport) -> None:
    """A BI publication holds the person too: publish again, keeping only the new version."""
    from kith import publish

    folder = publish.default_publish_dir(paths)
    if not (folder / publish.MANIFEST_FILE).exists():
        return
    try:
        publish.publish_marts(paths, publish_dir=folder, keep_versions=1)
        report.republished = str(folder)
    except UserError as exc:
        report.warnings.append(
            f"the BI publication in {folder} still holds the person ({exc}): run `kith publish` after `kith build`"
        )
