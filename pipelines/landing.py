"""Reading landing files into typed Arrow tables, with every bad row kept and explained.

The landing contract (docs/landing_formats.md) is declared per source system as a list of
:class:`Entity`. Parsing and validation run in an in-memory DuckDB connection (vectorised, near
DuckDB's own reader speed); rows that cannot be parsed or break the contract become rejected rows
with the file, the line and the reason. Nothing is dropped: for every file,
``rows_read = rows_loaded + rows_rejected``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

# Landing type -> (DuckDB type, SQL that converts the text value `v` or yields null when invalid).
_TYPES: dict[str, tuple[str, str]] = {
    "text": ("varchar", "{v}"),
    "int": ("bigint", "try_cast(trim({v}) as bigint)"),
    "decimal": ("decimal(18,2)", "try_cast(trim({v}) as decimal(18,2))"),
    "double": ("double", "try_cast(trim({v}) as double)"),
    "date": ("date", "try_cast(trim({v}) as date)"),
    "timestamp": ("timestamptz", "try_cast(trim({v}) as timestamptz)"),
    "bool": (
        "boolean",
        "case when lower(trim({v})) in ('true', 't', '1', 'yes', 'y') then true"
        " when lower(trim({v})) in ('false', 'f', '0', 'no', 'n') then false end",
    ),
}

BATCH_BYTES = 64 * 1024 * 1024
# CSV files up to this size are read through one combined file per batch: DuckDB's reader costs about
# a millisecond per file opened (more than the parse of a small file), and POS delivers thousands of
# small files (one per store per day).
PACK_FILE_BYTES = 1024 * 1024
MAX_RAW_RECORD_CHARS = 10_000
# A text value longer than this rejects its row: no identifier, name or URL is that long, and a blob
# pasted into a field must not reach the marts (or blow up a BI tool).
MAX_VALUE_CHARS = 8_192
# A timestamp later than the time the file is read plus this margin (clocks of tills and devices
# drift; offsets get mislabelled) rejects its row. Environment: KITH_MAX_FUTURE_HOURS.
MAX_FUTURE = timedelta(hours=24)


def latest_valid_timestamp(now: datetime | None = None) -> datetime:
    """The latest timestamp a row read now may carry."""
    hours = os.environ.get("KITH_MAX_FUTURE_HOURS")
    margin = timedelta(hours=float(hours)) if hours else MAX_FUTURE
    return (now or datetime.now(UTC)) + margin


@dataclass(frozen=True)
class Column:
    """One documented landing column."""

    name: str
    type: str = "text"
    required: bool = False
    path: str | None = None  # JSON path (dotted) for JSONL; CSV columns match by header name

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"column {self.name}: unknown landing type {self.type!r}")

    @property
    def json_path(self) -> str:
        return "$." + (self.path or self.name)

    @property
    def duckdb_type(self) -> str:
        return _TYPES[self.type][0]


@dataclass(frozen=True)
class Entity:
    """A landing entity: one folder of files, one raw table."""

    system: str
    name: str
    format: str  # "csv" or "jsonl"
    disposition: str  # "append" or "merge"
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    dedup_sort: str | None = None  # merge only: the column whose latest value wins

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        missing = [k for k in self.primary_key if k not in names]
        if missing or self.format not in ("csv", "jsonl") or self.disposition not in ("append", "merge"):
            raise ValueError(f"{self.system}.{self.name}: invalid entity definition")

    @property
    def folder(self) -> str:
        return f"{self.system}/{self.name}"

    @property
    def suffix(self) -> str:
        return ".csv" if self.format == "csv" else ".jsonl"


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str  # forward-slash path under the landing folder
    sha256: str
    size: int
    # CSV only, read in the same pass as the hash (see :func:`describe`): the header line, and the
    # data lines and empty lines as :func:`_csv_line_stats` counts them; None when not read yet
    csv_header: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    csv_lines: tuple[int, tuple[int, ...]] | None = field(default=None, compare=False, repr=False)


@dataclass
class FileResult:
    """What happened to one file: the row of ``loaded_files``."""

    file: LandingFile
    entity: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    new_columns: list[str] = field(default_factory=list)
    duplicate_of: str | None = None

    def as_row(self, loaded_at: datetime) -> dict:
        """The file's row of ``loaded_files`` (see :data:`LOADED_FILES_SCHEMA`)."""
        return {
            "file_path": self.file.relative,
            "file_sha256": self.file.sha256,
            "entity": self.entity,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "file_size_bytes": self.file.size,
            "new_columns": ",".join(self.new_columns) or None,
            "duplicate_of": self.duplicate_of,
            "loaded_at": loaded_at,
        }


@dataclass
class Batch:
    """Parsed output for a group of files of one entity."""

    rows: pa.Table
    rejected: pa.Table
    files: list[FileResult]


@dataclass
class _Combined:
    """Small files written one after the other into one file (see :meth:`EntityReader._combine`)."""

    path: Path
    files: list[LandingFile]
    starts: list[int]  # line of the combined file where each file's first written line is
    lines: list[int]  # lines written per file


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# Files hashed at once by :func:`describe`: hashing and reading release the GIL, and a landing folder
# holds thousands of small files (POS), so a few threads keep the disk and both cores busy.
DESCRIBE_THREADS = 4


def _inspect(landing: Path, path: Path) -> LandingFile:
    """One read of a file: its SHA-256 and size, and for a CSV file its header and line counts."""
    digest = hashlib.sha256()
    size = 0
    counter = _LineCounter() if path.suffix == ".csv" else None
    head = b""  # the start of a CSV file, up to its first line break
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            size += len(chunk)
            if counter is not None:
                counter.feed(chunk)
                if b"\n" not in head and b"\r" not in head:
                    head += chunk
    header, lines = None, None
    if counter is not None:
        header, lines = tuple(_parse_header(_first_line(head))), counter.finish()
    return LandingFile(path, path.relative_to(landing).as_posix(), digest.hexdigest(), size, header, lines)


def describe(landing: Path, paths: Sequence[Path], threads: int = DESCRIBE_THREADS) -> list[LandingFile]:
    """Every file with its content hash (and, for CSV, its header and line counts), in ``paths`` order."""
    if threads <= 1 or len(paths) < 2:
        return [_inspect(landing, p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda p: _inspect(landing, p), paths))


def discover(landing: Path, entity: Entity) -> list[Path]:
    """Files of an entity in name order (POS uses one sub-folder per day)."""
    folder = landing / entity.folder
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(f"*{entity.suffix}") if p.is_file())


def batches(files: Sequence[LandingFile], max_bytes: int = BATCH_BYTES) -> Iterator[list[LandingFile]]:
    """Group files into batches of about ``max_bytes`` so memory stays bounded."""
    current: list[LandingFile] = []
    size = 0
    for f in files:
        if current and size + f.size > max_bytes:
            yield current
            current, size = [], 0
        current.append(f)
        size += f.size
    if current:
        yield current


def parser_connection(memory_limit: str = "2GB", temp_directory: str | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    con.execute("set preserve_insertion_order = true")
    con.execute(f"set memory_limit = '{memory_limit}'")
    if temp_directory:
        con.execute("set temp_directory = ?", [temp_directory])
    return con


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _too_long(text: str, name: str) -> str:
    return (
        f"case when length({text}) > {MAX_VALUE_CHARS} then 'column {_sql_text(name)}: a value of ' || "
        f"length({text}) || ' characters (at most {MAX_VALUE_CHARS:,} allowed)' end"
    )


def _validation_ctes(
    entity: Entity,
    values: dict[str, str],
    extra: Sequence[str],
    source: str,
    passthrough: Sequence[str],
    latest: datetime,
) -> str:
    """Three CTEs ending in ``checked``: the passthrough columns, typed contract columns, extra
    columns as text, and ``_reject_reason`` listing every problem of the row (null when valid):
    a missing required value, a value not of its type, a text value over :data:`MAX_VALUE_CHARS`,
    a timestamp after ``latest``. Each value is converted once; the checks read the converted column."""
    keep = ", ".join(passthrough)
    texts = [f"nullif({values[c.name]}, '') as {_quote('_t_' + c.name)}" for c in entity.columns]
    texts += [f"nullif({values[name]}, '') as {_quote(name)}" for name in extra]
    typed, checks = [], []
    latest_sql = f"'{latest.astimezone(UTC).isoformat()}'::timestamptz"
    for col in entity.columns:
        text = _quote("_t_" + col.name)
        converted = _TYPES[col.type][1].format(v=text)
        typed.append(f"{converted}::{col.duckdb_type} as {_quote(col.name)}")
        if col.required:
            checks.append(f"case when {text} is null then 'required column {col.name} is missing' end")
        if col.type == "text":
            checks.append(_too_long(text, col.name))
        else:
            checks.append(
                f"case when {text} is not null and {_quote(col.name)} is null then "
                f"'column {col.name}: ' || left({text}, 60) || ' is not a valid {col.type}' end"
            )
        if col.type == "timestamp":
            checks.append(
                f"case when {_quote(col.name)} > {latest_sql} then 'column {col.name}: ' || left({text}, 60) || "
                f"' is in the future (after {latest:%Y-%m-%d %H:%M} UTC)' end"
            )
    checks += [_too_long(_quote(name), name) for name in extra]
    reason = "nullif(concat_ws('; ', " + ", ".join(checks) + "), '')" if checks else "null::varchar"
    outputs = [_quote(c.name) for c in entity.columns] + [_quote(n) for n in extra]
    extra_cols = "".join(", " + _quote(n) for n in extra)
    t_cols = ", ".join(_quote("_t_" + c.name) for c in entity.columns)
    return f"""
            texts as (
                select {keep}, {", ".join(texts)} from {source}
            ),
            typed as (
                select {keep}, {t_cols}{extra_cols}, {", ".join(typed)} from texts
            ),
            checked as (
                select {keep}, {", ".join(outputs)}, {reason} as _reject_reason from typed
            )"""


def _csv_header(f: LandingFile) -> tuple[str, ...]:
    if f.csv_header is not None:
        return f.csv_header
    with f.path.open("rb") as handle:
        head = b""
        while (chunk := handle.read(1 << 16)) and b"\n" not in head and b"\r" not in head:
            head += chunk
    return tuple(_parse_header(_first_line(head)))


def _first_line(data: bytes) -> bytes:
    """The bytes before the first line break (a lone CR ends a line too, as in universal newlines)."""
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    return data[: min(ends)] if ends else data


def _parse_header(first: bytes) -> list[str]:
    import csv

    text = first.decode("utf-8", errors="replace").lstrip("\ufeff")
    return [h.strip() for h in next(csv.reader([text]))] if text else []


def _file_dictionary(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """A file column as one dictionary array: a batch holds few files and many rows, so every
    per-file step (relative paths, line numbers, counts) works on the small dictionary and the
    integer codes, and the Parquet file gets the column dictionary-encoded as it is."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()  # dictionary chunks: one dictionary (unified when they differ)
    if pa.types.is_dictionary(column.type):
        return column
    return pc.dictionary_encode(column)


def _dictionary_counts(column: pa.ChunkedArray) -> dict[str, int]:
    """Rows per value of a dictionary-encoded column."""
    files = _file_dictionary(column)
    names = files.dictionary.to_pylist()
    counts = np.bincount(files.indices.to_numpy(zero_copy_only=False), minlength=len(names)).tolist()
    return {name: n for name, n in zip(names, counts, strict=True) if n}


def _run_starts(files: pa.DictionaryArray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Start offsets, end offsets and names of the runs of equal values of an ordered column
    (a batch's rows come out file by file, in file order)."""
    if len(files) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    codes = files.indices.to_numpy(zero_copy_only=False)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(codes)) + 1))
    ends = np.concatenate((starts[1:], [len(codes)]))
    names = files.dictionary.to_pylist()
    return starts, ends, [names[c] for c in codes[starts]]


def _csv_physical_lines(files: pa.DictionaryArray, structural: dict[str, list[int]], first_line: int = 2) -> np.ndarray:
    """Physical line of every parsed CSV row, in order. Within a file the k-th parsed row is on line
    ``first_line + k`` plus the number of structurally rejected lines before it (those lines never
    reach the parsed rows): with sorted rejected lines r_j, the j-th (0-based) sits at parsed
    position p_j = r_j - first_line - j, and row k is after it when p_j <= k."""
    lines = np.empty(len(files), dtype=np.int64)
    starts, ends, names = _run_starts(files)
    for start, end, name in zip(starts, ends, names, strict=True):
        k = np.arange(end - start, dtype=np.int64)
        rejected = np.sort(np.asarray(structural.get(name, []), dtype=np.int64))
        if len(rejected):
            positions = rejected - first_line - np.arange(len(rejected))
            k = k + np.searchsorted(positions, k, side="right")
        lines[start:end] = k + first_line
    return lines


def _with_lines(parsed: pa.Table, structural: dict[str, list[int]], first_line: int) -> pa.Table:
    """The parsed rows with the file column dictionary-encoded and ``_kith_line`` after it."""
    files = _file_dictionary(parsed.column("_kith_file"))
    position = parsed.column_names.index("_kith_file")
    parsed = parsed.set_column(position, "_kith_file", files)
    lines = _csv_physical_lines(files, structural, first_line)
    return parsed.add_column(position + 1, "_kith_line", pa.array(lines, pa.int64()))


class EntityReader:
    """Parses batches of landing files of one entity into typed rows and rejected rows.

    Each batch is one ordered scan in DuckDB that yields every row with its typed columns and its
    reject reason (null when valid); Arrow then splits valid from rejected rows.
    """

    def __init__(
        self,
        entity: Entity,
        landing: Path,
        con: duckdb.DuckDBPyConnection,
        latest: datetime | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        self.entity = entity
        self.landing = landing
        self.con = con
        self.latest = latest or latest_valid_timestamp()
        self.temp_dir = temp_dir  # where combined CSV files are written (default: the system's)
        self._prefix = len(str(landing)) + 1  # DuckDB reports the absolute paths we pass it
        self._scan = 0

    def read(self, files: Sequence[LandingFile]) -> Batch:
        """Parse a batch of files. A file the reader cannot split into lines one to one (mixed line
        endings, an unclosed quote running over later lines) would fail the batch or lose lines: the
        batch is then read file by file, and such a file is quarantined whole, every line rejected
        with the reason, while the other files load."""
        try:
            return self._read(files)
        except (duckdb.Error, UnreadableFileError) as exc:
            if len(files) > 1:
                log.warning("%s: a file cannot be parsed (%s); reading file by file", self.entity.folder, _first(exc))
                return _merge_batches([self.read([f]) for f in files])
            return self._quarantine(files[0], exc)

    def _quarantine(self, f: LandingFile, exc: Exception) -> Batch:
        error = _first(exc)
        reason = f"file could not be read line by line ({error}): every line of the file is quarantined"
        entries = []
        with f.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                text = raw.rstrip(b"\r\n")
                if not text or (self.entity.format == "csv" and number == 1):
                    continue
                entries.append((number, text.decode("utf-8", errors="replace")[:MAX_RAW_RECORD_CHARS]))
        rejected = pa.table(
            {
                "entity": pa.array([self.entity.name] * len(entries), pa.string()),
                "filename": pa.array([f.relative] * len(entries), pa.string()),
                "line_number": pa.array([n for n, _ in entries], pa.int64()),
                "reason": pa.array([reason] * len(entries), pa.string()),
                "raw_record": pa.array([t for _, t in entries], pa.string()),
            }
        )
        rows = self._empty_parsed().drop_columns(["_reject_reason", "_raw"])
        rows = rows.set_column(
            rows.column_names.index("_kith_file"), "_kith_file", _file_dictionary(rows.column("_kith_file"))
        )
        result = FileResult(f, self.entity.name, rows_read=len(entries), rows_rejected=len(entries))
        log.warning("%s: quarantined whole (%s)", f.relative, error)
        return Batch(rows, rejected, [result])

    def _read(self, files: Sequence[LandingFile]) -> Batch:
        results = {f.relative: FileResult(f, self.entity.name) for f in files}
        if self.entity.format == "jsonl":
            parsed, structural, extra = self._parse_jsonl(files)
        else:
            parsed, structural, extra = self._parse_csv(files)
        # relative paths: on the dictionary (one value per file), not on every row
        position = parsed.column_names.index("_kith_file")
        absolute = _file_dictionary(parsed.column("_kith_file"))
        relative = pc.utf8_slice_codeunits(absolute.dictionary, self._prefix)
        parsed = parsed.set_column(position, "_kith_file", pa.DictionaryArray.from_arrays(absolute.indices, relative))
        structural = self._relative(structural, "filename")
        # one pass splits the rows: valid ones load, the others are rejected, blank JSONL lines are neither
        present = np.ones(parsed.num_rows, dtype=bool)
        if "_is_blank" in parsed.column_names:
            present = ~parsed.column("_is_blank").to_numpy(zero_copy_only=False).astype(bool)
        valid = pc.is_null(parsed.column("_reject_reason")).to_numpy(zero_copy_only=False).astype(bool)
        keep, bad_rows = present & valid, present & ~valid
        rows = parsed.drop_columns([c for c in ("_reject_reason", "_raw", "_is_blank") if c in parsed.column_names])
        if not keep.all():
            rows = rows.filter(pa.array(keep))
        bad = parsed.select(["_kith_file", "_kith_line", "_reject_reason", "_raw"]).filter(pa.array(bad_rows))
        typed = pa.table(
            {
                "entity": pa.array([self.entity.name] * bad.num_rows, pa.string()),
                "filename": bad.column("_kith_file").cast(pa.string()),
                "line_number": bad.column("_kith_line"),
                "reason": bad.column("_reject_reason"),
                "raw_record": bad.column("_raw"),
            }
        )
        rejected = _concat([structural, typed], empty_schema=_REJECT_SCHEMA)
        codes = absolute.indices.to_numpy(zero_copy_only=False)[present]
        names = relative.to_pylist()
        read_per_file = dict(zip(names, np.bincount(codes, minlength=len(names)).tolist(), strict=True))
        for name, n in _count_by(structural, "filename").items():
            read_per_file[name] = read_per_file.get(name, 0) + n
        for name, result in results.items():
            result.rows_read = read_per_file.get(name, 0)
        self._finish(results, _dictionary_counts(rows.column("_kith_file")), _count_by(rejected, "filename"), extra)
        return Batch(rows, rejected, [results[f.relative] for f in files])

    def _relative(self, table: pa.Table, column: str) -> pa.Table:
        idx = table.column_names.index(column)
        relative = pc.utf8_slice_codeunits(table.column(column), self._prefix)
        return table.set_column(idx, column, relative)

    # -- JSONL -----------------------------------------------------------------------------
    def _parse_jsonl(self, files: Sequence[LandingFile]) -> tuple[pa.Table, pa.Table, list[str]]:
        """JSONL through DuckDB's parallel CSV reader, one text column per line (no quoting, a
        control character as delimiter). Blank lines arrive as null rows, so row order gives exact
        line numbers; a line the reader cannot take (a raw control character: invalid JSON anyway)
        is kept as a rejected row. Small files are read as one combined file (:meth:`_combine`)."""
        known_top = sorted({(c.path or c.name).split(".")[0] for c in self.entity.columns})
        small = [f for f in files if f.size <= PACK_FILE_BYTES]
        combined, rest = None, list(files)
        if len(small) > 1:
            combined, left_out = self._combine(small, header=False)
            rest = [f for f in files if f.size > PACK_FILE_BYTES] + left_out
        rest.sort(key=lambda f: f.relative)
        try:
            parts = self._scan_jsonl_parts(combined, rest, [], known_top)
            unknown = _concat([p for p, _ in parts]).column("_unknown_keys")
            extra = sorted(k for k in pc.unique(pc.list_flatten(unknown)).to_pylist() if k)
            if extra:  # rare: new keys in this batch; scan again extracting them as text columns
                parts = self._scan_jsonl_parts(combined, rest, extra, known_top)
        finally:
            if combined:
                combined.path.unlink(missing_ok=True)
        parsed = _concat([p for p, _ in parts]).drop_columns(["_unknown_keys"])
        return parsed, _concat([s for _, s in parts], _REJECT_SCHEMA), extra

    def _scan_jsonl_parts(
        self, combined: _Combined | None, rest: Sequence[LandingFile], extra: list[str], known_top: list[str]
    ) -> list[tuple[pa.Table, pa.Table]]:
        """The combined file and the other files, each parsed with line numbers."""
        parts = []
        if combined:
            parsed, structural = self._scan_jsonl([str(combined.path)], False, extra, known_top)
            parsed, structural, by_file = self._split_combined(combined, parsed, structural, combined.lines, 1)
            parts.append((_with_lines(parsed, by_file, first_line=1), structural))
        if rest:
            parsed, structural = self._scan_jsonl([str(f.path) for f in rest], True, extra, known_top)
            parts.append((_with_lines(parsed, _lines_by_file(structural), first_line=1), structural))
        return parts

    def _scan_jsonl(
        self, sources: Sequence[str], filename: bool, extra: list[str], known_top: list[str]
    ) -> tuple[pa.Table, pa.Table]:
        """One scan of JSONL files: every line (blank ones too) typed and checked, in file order;
        and the lines the reader itself rejected."""
        con = self.con
        self._scan += 1
        rej_table, rej_scan = f"_rej_{self._scan}", f"_scan_{self._scan}"
        paths = [c.json_path for c in self.entity.columns] + [_json_key_path(k) for k in extra]
        values = {c.name: f"_v[{i + 1}]" for i, c in enumerate(self.entity.columns)}
        values.update({k: f"_v[{len(self.entity.columns) + i + 1}]" for i, k in enumerate(extra)})
        known_list = _sql_list(known_top + extra)
        parsed = con.sql(
            f"""
            with scanned as (
                select {"filename" if filename else "''::varchar as filename"}, line
                from read_csv({_sql_list(sources)}, columns = {{'line': 'VARCHAR'}},
                    header = false, delim = chr(31), quote = '', escape = '', strict_mode = false, auto_detect = false,
                    filename = {str(filename).lower()}, store_rejects = true, rejects_table = '{rej_table}',
                    rejects_scan = '{rej_scan}', max_line_size = 4000000)
            ),
            classified as (
                -- a line that starts with '{{' needs no trimming: the common case is decided without
                -- copying the line (trimming every line doubled the cost of the scan)
                select filename,
                    case when suffix(line, chr(13)) then rtrim(line, chr(13)) else line end as line,
                    case when line is null then true when starts_with(line, '{{') then false
                         else trim(line) = '' end as _is_blank,
                    case when starts_with(line, '{{') then coalesce(json_valid(line), false)
                         else coalesce(json_valid(line) and left(ltrim(line), 1) = '{{', false) end as _is_object
                from scanned
            ),
            extracted as (
                select *,
                    case when _is_object then json_extract_string(line, {_sql_list(paths)}) end as _v,
                    case when _is_object then list_filter(json_keys(line), lambda k: not list_contains({known_list}, k))
                    end as _unknown_keys
                from classified
            ),
            {
                _validation_ctes(
                    self.entity,
                    values,
                    extra,
                    "extracted",
                    ["filename", "line", "_is_blank", "_is_object", "_unknown_keys"],
                    self.latest,
                )
            }
            select * exclude (filename, line, _is_object, _reject_reason),
                filename as _kith_file,
                case when not _is_object then 'malformed JSON: not a valid JSON object'
                     else _reject_reason end as _reject_reason,
                case when not _is_object or _reject_reason is not null
                     then left(line, {MAX_RAW_RECORD_CHARS}) end as _raw
            from checked
            """
        ).to_arrow_table()
        # blank lines stay until the batch is split (_read): filtering them here would copy the batch
        return parsed, self._structural_rejects(rej_table, rej_scan)

    def _structural_rejects(self, rej_table: str, rej_scan: str) -> pa.Table:
        """Lines the CSV reader itself rejected (wrong column count, oversized line ...)."""
        structural = self.con.sql(
            f"""
            select '{self.entity.name}' as entity, s.file_path as filename, e.line as line_number,
                string_agg(e.error_type || ': ' || e.error_message, '; ' order by e.column_idx) as reason,
                left(any_value(e.csv_line), {MAX_RAW_RECORD_CHARS}) as raw_record
            from {rej_table} as e
            inner join {rej_scan} as s on e.scan_id = s.scan_id and e.file_id = s.file_id
            group by all
            """
        ).to_arrow_table()
        self.con.execute(f"drop table if exists {rej_table}; drop table if exists {rej_scan}")
        return structural

    # -- CSV -------------------------------------------------------------------------------
    def _parse_csv(self, files: Sequence[LandingFile]) -> tuple[pa.Table, pa.Table, list[str]]:
        groups: dict[tuple[str, ...], list[LandingFile]] = {}
        for f in files:
            header = _csv_header(f)
            if header:
                groups.setdefault(header, []).append(f)
            else:
                log.info("%s: empty file (no header), nothing to load", f.relative)
        parsed_parts, structural_parts, extra_all = [], [], set()
        for header, group in groups.items():
            small = [f for f in group if f.size <= PACK_FILE_BYTES]
            if len(small) > 1:
                packed, group = self._parse_csv_packed(header, small, group)
                if packed:
                    parsed_parts.append(packed[0])
                    structural_parts.append(packed[1])
                    extra_all.update(packed[2])
            if group:
                parsed, structural, extra = self._parse_csv_group(header, group)
                parsed_parts.append(parsed)
                structural_parts.append(structural)
                extra_all.update(extra)
        if not parsed_parts:
            empty = self._empty_parsed()
            return empty, _REJECT_SCHEMA.empty_table(), []
        return _concat(parsed_parts), _concat(structural_parts, _REJECT_SCHEMA), sorted(extra_all)

    def _empty_parsed(self) -> pa.Table:
        columns = ", ".join(f"null::{c.duckdb_type} as {_quote(c.name)}" for c in self.entity.columns)
        return self.con.sql(
            f"select {columns}, null::varchar as _kith_file, null::bigint as _kith_line, "
            "null::varchar as _reject_reason, null::varchar as _raw where false"
        ).to_arrow_table()

    def _parse_csv_group(self, header, group) -> tuple[pa.Table, pa.Table, list[str]]:
        """Files of one header read by one multi-file scan; DuckDB names each row's file."""
        parsed, structural, extra = self._scan_csv(header, [str(f.path) for f in group], filename=True)
        parsed = parsed.set_column(
            parsed.column_names.index("_kith_file"), "_kith_file", _file_dictionary(parsed.column("_kith_file"))
        )
        by_file = _lines_by_file(structural)
        returned = _dictionary_counts(parsed.column("_kith_file"))
        for f in group:
            data_lines, blank = f.csv_lines if f.csv_lines is not None else _csv_line_stats(f.path)
            blank = list(blank)
            name = str(f.path)
            got = returned.get(name, 0) + len(by_file.get(name, []))
            if got != data_lines:
                raise UnreadableFileError(
                    f"{f.relative}: {data_lines} data lines but the CSV reader returned {got} rows "
                    "(an unclosed quote or a line break inside a value?)"
                )
            if blank:  # the reader skips empty lines: number the rows after them as lines
                by_file[name] = sorted(by_file.get(name, []) + blank)
        return _with_lines(parsed, by_file, first_line=2), structural, extra

    def _parse_csv_packed(
        self, header, small: Sequence[LandingFile], group: Sequence[LandingFile]
    ) -> tuple[tuple[pa.Table, pa.Table, list[str]] | None, list[LandingFile]]:
        """Small files of one header read as one combined file (:meth:`_combine`). The reader skips
        empty lines, so a file's rows are its data lines (counted from the bytes when it was
        hashed) less the lines the reader rejected. Returns the parsed rows, the rejected lines and
        the extra columns (None when no file could be combined), and the files left to read the
        usual way."""
        combined, rest = self._combine(small, header=True)
        rest = sorted([f for f in group if f.size > PACK_FILE_BYTES] + rest, key=lambda f: f.relative)
        if combined is None:
            return None, rest
        try:
            parsed, structural, extra = self._scan_csv(header, [str(combined.path)], filename=False)
        finally:
            combined.path.unlink(missing_ok=True)
        expected = [f.csv_lines[0] for f in combined.files]
        parsed, structural, by_file = self._split_combined(combined, parsed, structural, expected, 2)
        for f in combined.files:
            if f.csv_lines[1]:  # the reader skips empty lines: number the rows after them as lines
                by_file[str(f.path)] = sorted(by_file.get(str(f.path), []) + list(f.csv_lines[1]))
        return (_with_lines(parsed, by_file, first_line=2), structural, extra), rest

    def _combine(self, files: Sequence[LandingFile], header: bool) -> tuple[_Combined | None, list[LandingFile]]:
        """Write small files one after the other into one temporary file, so that DuckDB opens one
        file instead of many (its reader costs about a millisecond per file). CSV files lose their
        header line (the combined file gets one of its own); a missing last line break is added.
        Each file's lines keep their order and count, so a line of the combined file maps back to
        its file and line. Files with a carriage return are not combined (CRLF and CR line ends are
        left to the per-file reader), nor CSV files whose lines were not counted. Returns the
        combined file (None when no file went in) and the files left out, for the caller to read
        the usual way and to remove the combined file once read."""
        import tempfile

        left_out: list[LandingFile] = []
        combined = _Combined(Path(), [], [], [])
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, removed by the caller)
            "wb", suffix=".csv" if header else ".jsonl", prefix="kith-pack-", dir=self.temp_dir, delete=False
        )
        combined.path = Path(handle.name)
        try:
            with handle:
                line = 1
                if header:
                    handle.write(b"header\n")  # skipped: the columns are given by name
                    line = 2
                for f in files:
                    data = f.path.read_bytes()
                    if b"\r" in data or (header and f.csv_lines is None):
                        left_out.append(f)
                        continue
                    if header:
                        cut = data.find(b"\n")
                        data = data[cut + 1 :] if cut >= 0 else b""
                    if data and not data.endswith(b"\n"):
                        data += b"\n"
                    combined.files.append(f)
                    combined.starts.append(line)
                    combined.lines.append(data.count(b"\n"))
                    handle.write(data)
                    line += combined.lines[-1]
        except BaseException:
            combined.path.unlink(missing_ok=True)
            raise
        if not combined.files:
            combined.path.unlink(missing_ok=True)
            return None, left_out
        return combined, left_out

    def _split_combined(
        self,
        combined: _Combined,
        parsed: pa.Table,
        rejected: pa.Table,
        expected: Sequence[int],
        first_data_line: int,
    ) -> tuple[pa.Table, pa.Table, dict[str, list[int]]]:
        """Give the rows and rejected lines of a combined file back to their files. ``expected``:
        the rows each file gives when every row is one line; ``first_data_line``: the line number,
        in its own file, of a file's first line in the combined file. Rows are given to files by
        count, which holds only when every row is exactly one line: the rows returned plus the
        lines rejected must equal the lines counted from the bytes, in total and for each file, or
        :class:`UnreadableFileError` sends the batch to the file-by-file reader (:meth:`read`).
        Returns the rows with their file, the rejected lines with file and line, and the rejected
        line numbers per file."""
        starts = np.asarray(combined.starts, dtype=np.int64)
        by_file: dict[str, list[int]] = {}
        per_file = [0] * len(combined.files)
        file_of, line_of = [], []
        for number in rejected.column("line_number").to_pylist():
            i = int(np.searchsorted(starts, number, side="right")) - 1
            if i < 0 or number >= combined.starts[i] + combined.lines[i]:
                raise UnreadableFileError(f"the reader rejected line {number} of a combined file, outside its files")
            f, line = combined.files[i], number - combined.starts[i] + first_data_line
            per_file[i] += 1
            by_file.setdefault(str(f.path), []).append(line)
            file_of.append(str(f.path))
            line_of.append(line)
        returned = [n - bad for n, bad in zip(expected, per_file, strict=True)]
        if min(returned) < 0 or sum(returned) != parsed.num_rows:
            raise UnreadableFileError(
                f"{sum(expected)} lines in {len(combined.files)} combined files but the reader returned "
                f"{parsed.num_rows} rows and rejected {rejected.num_rows} lines "
                "(an unclosed quote or a line break inside a value?)"
            )
        names = pa.array([str(f.path) for f in combined.files], pa.string())
        codes = pa.array(np.repeat(np.arange(len(combined.files), dtype=np.int32), returned), pa.int32())
        position = parsed.column_names.index("_kith_file")
        parsed = parsed.set_column(position, "_kith_file", pa.DictionaryArray.from_arrays(codes, names))
        rejected = rejected.set_column(1, "filename", pa.array(file_of, pa.string()))
        rejected = rejected.set_column(2, "line_number", pa.array(line_of, pa.int64()))
        return parsed, rejected, by_file

    def _scan_csv(self, header, paths: Sequence[str], filename: bool) -> tuple[pa.Table, pa.Table, list[str]]:
        """One scan of CSV files sharing ``header``: every row typed and checked, with its reject
        reason, in file order; and the lines the reader itself rejected."""
        con = self.con
        self._scan += 1
        rej_table, rej_scan = f"_rej_{self._scan}", f"_scan_{self._scan}"
        known = {c.name for c in self.entity.columns}
        # Duplicate or empty header names get positional names so nothing is lost.
        names, seen = [], set()
        for i, h in enumerate(header):
            name = h or f"column_{i + 1}"
            if name in seen:
                name = f"{name}_{i + 1}"
            seen.add(name)
            names.append(name)
        extra = [n for n in names if n not in known]
        columns_sql = "{" + ", ".join(f"'{n.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for n in names) + "}"
        values = {c.name: (_quote(c.name) if c.name in names else "null::varchar") for c in self.entity.columns}
        values.update({n: _quote(n) for n in extra})
        raw = "concat_ws(',', " + ", ".join(f"coalesce({_quote(n)}, '')" for n in names) + ")"
        file_column = "filename" if filename else "''"
        relation = con.sql(
            f"""
            with scanned as (
                select *{"" if filename else ", '' as filename"} from read_csv({_sql_list(paths)}, header = true,
                    columns = {columns_sql}, auto_detect = false, delim = ',', quote = '"', escape = '"',
                    filename = {str(filename).lower()}, store_rejects = true, rejects_table = '{rej_table}',
                    rejects_scan = '{rej_scan}', max_line_size = 4000000)
            ),
            raw_text as (
                select *, {raw} as _raw_text from scanned
            ),
            {_validation_ctes(self.entity, values, extra, "raw_text", ["filename", "_raw_text"], self.latest)}
            select {", ".join(_quote(c.name) for c in self.entity.columns)}
                {"".join(", " + _quote(n) for n in extra)},
                {file_column} as _kith_file,
                _reject_reason,
                case when _reject_reason is not null then left(_raw_text, {MAX_RAW_RECORD_CHARS}) end as _raw
            from checked
            """
        )
        parsed = relation.to_arrow_table()
        return parsed, self._structural_rejects(rej_table, rej_scan), extra

    # -- shared ----------------------------------------------------------------------------
    def _finish(self, results, loaded: dict[str, int], bad: dict[str, int], extra: Sequence[str]) -> None:
        """Per-file counts of the loaded rows and the rejected rows, as found in those tables."""
        for name, result in results.items():
            result.rows_loaded = loaded.get(name, 0)
            result.rows_rejected = bad.get(name, 0)
            result.new_columns = list(extra)
            if result.rows_read != result.rows_loaded + result.rows_rejected:
                raise RuntimeError(
                    f"{result.file.relative}: {result.rows_read} rows read but {result.rows_loaded} loaded"
                    f" + {result.rows_rejected} rejected; refusing to lose data"
                )


def _first(exc: Exception) -> str:
    """The first line of an error, squeezed (DuckDB's reader errors run over many lines)."""
    return " ".join(str(exc).split("\n")[0].split())[:200]


class UnreadableFileError(Exception):
    """A file the reader cannot split into one row per line."""


def _merge_batches(parts: list[Batch]) -> Batch:
    return Batch(
        _concat([p.rows for p in parts]),
        _concat([p.rejected for p in parts], _REJECT_SCHEMA),
        [r for p in parts for r in p.files],
    )


def _csv_line_stats(path: Path) -> tuple[int, tuple[int, ...]]:
    """Data lines of a CSV file (non-empty lines after the header) and the numbers of its empty
    lines, counted from the bytes, independently of the CSV reader."""
    counter = _LineCounter()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            counter.feed(chunk)
    return counter.finish()


class _LineCounter:
    """:func:`_csv_line_stats` over a stream of chunks (fed while the file is hashed)."""

    def __init__(self) -> None:
        self.nonempty, self.blank, self.line, self.carry = 0, [], 1, b""

    def feed(self, chunk: bytes) -> None:
        data = self.carry + chunk
        cut = data.rfind(b"\n") + 1
        data, self.carry = data[:cut], data[cut:]
        if not data:
            return
        count = data.count(b"\n")
        found = 0
        if data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data:
            for i, text in enumerate(data.split(b"\n")[:-1]):
                if text in (b"", b"\r"):
                    self.blank.append(self.line + i)
                    found += 1
        self.nonempty += count - found
        self.line += count

    def finish(self) -> tuple[int, tuple[int, ...]]:
        if self.carry not in (b"", b"\r"):  # the last line, without a line break
            self.nonempty += 1
        header = 1 if self.nonempty and 1 not in self.blank else 0
        return self.nonempty - header, tuple(self.blank)


def _lines_by_file(structural: pa.Table) -> dict[str, list[int]]:
    by_file: dict[str, list[int]] = {}
    for name, line in zip(
        structural.column("filename").to_pylist(), structural.column("line_number").to_pylist(), strict=True
    ):
        by_file.setdefault(name, []).append(line)
    return by_file


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _json_key_path(key: str) -> str:
    """JSONPath of a top-level key, quoted: undocumented keys may hold dots, spaces or quotes."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sql_text(value: str) -> str:
    """Text to embed inside a SQL string literal (column names come from file headers)."""
    return value.replace("'", "''")


LOADED_FILES_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("file_sha256", pa.string()),
        ("entity", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("file_size_bytes", pa.int64()),
        ("new_columns", pa.string()),
        ("duplicate_of", pa.string()),
        ("loaded_at", pa.timestamp("us", "UTC")),
    ]
)


def manifest_table(results: Sequence[FileResult], loaded_at: datetime) -> pa.Table:
    return pa.Table.from_pylist([r.as_row(loaded_at) for r in results], schema=LOADED_FILES_SCHEMA)


_REJECT_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("filename", pa.string()),
        ("line_number", pa.int64()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
    ]
)

# The columns of ``raw_<system>.rejected_rows`` as loaded: the file column renamed, a timestamp added.
REJECTED_ROWS_SCHEMA = pa.schema(
    [pa.field("file_path", pa.string()) if f.name == "filename" else f for f in _REJECT_SCHEMA]
    + [pa.field("rejected_at", pa.timestamp("us", "UTC"))]
)


def rejected_rows_table(rejected: pa.Table, rejected_at: datetime) -> pa.Table:
    """A batch's rejected rows in the shape of ``raw_<system>.rejected_rows``."""
    renamed = rejected.rename_columns(["file_path" if c == "filename" else c for c in rejected.column_names])
    stamps = pa.array([rejected_at] * rejected.num_rows, REJECTED_ROWS_SCHEMA.field("rejected_at").type)
    return renamed.append_column("rejected_at", stamps)


def _concat(parts: list[pa.Table], empty_schema: pa.Schema | None = None) -> pa.Table:
    parts = [p for p in parts if p is not None]
    if not parts:
        return (empty_schema or pa.schema([])).empty_table()
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="permissive")


def _count_by(table: pa.Table, column: str) -> dict[str, int]:
    if table.num_rows == 0:
        return {}
    counts = table.group_by(column).aggregate([(column, "count")])
    return dict(zip(counts.column(column).to_pylist(), counts.column(f"{column}_count").to_pylist(), strict=True))


def now_utc() -> datetime:
    return datetime.now(UTC)
