"""Serialising rows, injecting resends and malformed lines, and streaming them into files.

A `Sink` buffers one chunk of persons: rows per landing file (sorted by time at flush, then
APPENDED to the file; the CSV header is written only when the file is created) and the
ground-truth lines (records, identifiers, persons, malformed). Memory is bounded by the chunk.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from random import Random

from kith.generate.calendar import Clock
from kith.generate.schema import Entity

P_MALFORMED = 0.002
P_RESEND = 0.01
Row = dict[str, object]

_quote = json.encoder.encode_basestring  # JSON string literal, non-ASCII kept (C implementation)
_needs_quotes = re.compile(r'[",\r\n]|^\s|\s$').search

_BAD_DECIMALS = ("12,99", "N/A", "£19.99", "abc", "1.2.3")
_BAD_INTS = ("two", "1x", "N/A", "--")
_BAD_TIMESTAMPS = (
    "2026-02-30T10:00:00Z",
    "31/12/2025 14:05",
    "not a date",
    "2025-13-01T00:00:00",
    "2026-04-31T25:61:00+01:00",
)
_BAD_DATES = ("2026-02-30", "31/12/2025", "2025-13-01", "yesterday")
_JSON_KINDS = ("truncated_json", "non_numeric", "invalid_timestamp", "missing_required")
_CSV_KINDS = ("non_numeric", "invalid_timestamp", "missing_required", "extra_columns", "missing_columns")


def csv_field(value: object) -> str:
    if value is None:
        return ""
    s = value if type(value) is str else str(value)
    if s and _needs_quotes(s):
        return '"' + s.replace('"', '""') + '"'
    return s


def csv_line(values) -> str:
    return ",".join([csv_field(v) for v in values])


def _json_value(v: object) -> str:
    if type(v) is str:
        return _quote(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is float:
        return float.__repr__(v)
    return int.__repr__(v)  # type: ignore[arg-type]


def _compile_json(entity: Entity):
    """Compile `row -> JSON text` for the entity's documented JSON paths.

    Top-level keys are always written (null included); a nested key is written only when its
    value is not null, and an object only when it has a key. The output is what
    json.dumps(nested, ensure_ascii=False, separators=(",", ":")) gives; generating the code once
    per entity keeps the per-row work straight-line (this is the generator's hottest path).
    """
    tree: list = []  # [("leaf", key, column) | ("group", key, subtree)] in first-seen order
    for col in entity.columns:
        parts = (col.path or col.name).split(".")
        level = tree
        for part in parts[:-1]:
            for node in level:
                if node[0] == "group" and node[1] == part:
                    level = node[2]
                    break
            else:
                group: tuple = ("group", part, [])
                level.append(group)
                level = group[2]
        level.append(("leaf", parts[-1], col.name))
    lines = ["def line(row):", "    g = row.get", "    p0 = []"]
    counter = [0]

    def emit(nodes: list, parts: str, depth: int) -> None:
        pad = "    " * depth
        for node in nodes:
            if node[0] == "leaf":
                _, key, column = node
                lines.append(f"{pad}v = g({column!r})")
                if parts == "p0":
                    lines.append(f"{pad}{parts}.append({_quote(key) + ':'!r} + (Q(v) if type(v) is str else V(v)))")
                else:
                    lines.append(f"{pad}if v is not None:")
                    lines.append(f"{pad}    {parts}.append({_quote(key) + ':'!r} + (Q(v) if type(v) is str else V(v)))")
            else:
                _, key, subtree = node
                counter[0] += 1
                sub = f"p{counter[0]}"
                lines.append(f"{pad}{sub} = []")
                emit(subtree, sub, depth)
                lines.append(f"{pad}if {sub}:")
                lines.append(f"{pad}    {parts}.append({_quote(key) + ':{'!r} + ','.join({sub}) + '}}')")

    emit(tree, "p0", 1)
    lines.append("    return '{' + ','.join(p0) + '}'")
    namespace: dict[str, object] = {"Q": _quote, "V": _json_value}
    exec(compile("\n".join(lines), f"<json {entity.folder}>", "exec"), namespace)
    return namespace["line"]


class Serializer:
    """Turns a flat row (documented column names) into one line of the entity's file."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self.columns = [c.name for c in entity.columns]
        self.is_json = entity.fmt == "jsonl"
        self.header = None if self.is_json else csv_line(self.columns)
        self._json = _compile_json(entity)
        self._types = {c.name: c.type for c in entity.columns}
        self._required = [c.name for c in entity.columns if c.required][1:]
        self._numeric = [c.name for c in entity.columns if c.type in ("int", "decimal", "double")]
        self._temporal = [c for c in entity.columns if c.type in ("timestamp", "date") and c.required]

    def line(self, row: Row) -> str:
        if self.is_json:
            return self._json(row)
        values = ["" if v is None else v if type(v) is str else str(v) for v in map(row.get, self.columns)]
        text = ",".join(values)
        if (
            text.count(",") == len(values) - 1
            and '"' not in text
            and "\n" not in text
            and "\r" not in text
            and "\t" not in text
            and ", " not in text
            and " ," not in text
            and text[:1] != " "
            and text[-1:] != " "
        ):
            return text
        return ",".join([csv_field(v) for v in values])

    def malformed(self, row: Row, u: float) -> tuple[str, str]:
        """A corrupted line for row and the kind of corruption; u in [0, 1) picks the kind."""
        numeric = [c for c in self._numeric if row.get(c) is not None]
        kinds = [
            k
            for k in (_JSON_KINDS if self.is_json else _CSV_KINDS)
            if (k != "non_numeric" or numeric) and (k != "invalid_timestamp" or self._temporal)
        ]
        pick = u * len(kinds)
        kind = kinds[int(pick)]
        v = pick - int(pick)
        bad = dict(row)
        if kind == "truncated_json":
            text = self.line(row)
            return text[: max(1, int(len(text) * (0.3 + 0.5 * v)))], kind
        if kind == "non_numeric":
            col = numeric[int(v * len(numeric))]
            pool = _BAD_INTS if self._types[col] == "int" else _BAD_DECIMALS
            bad[col] = pool[int(v * 997) % len(pool)]
            return self.line(bad), kind
        if kind == "invalid_timestamp":
            column = self._temporal[int(v * len(self._temporal))]
            if column.type == "date":
                bad[column.name] = _BAD_DATES[int(v * 991) % len(_BAD_DATES)]
                return self.line(bad), "invalid_date"
            bad[column.name] = _BAD_TIMESTAMPS[int(v * 991) % len(_BAD_TIMESTAMPS)]
            return self.line(bad), kind
        if kind == "missing_required":
            bad[self._required[int(v * len(self._required))]] = ""
            return self.line(bad), kind
        fields = [csv_field(row.get(c)) for c in self.columns]
        if kind == "extra_columns":
            fields.append("GBP" if v < 0.5 else "1")
        else:
            fields.pop()
        return ",".join(fields), kind


@dataclass
class Totals:
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    malformed: int = 0


TRUTH_HEADERS: dict[str, tuple[str, ...]] = {
    "persons.csv": (
        "person_id",
        "first_name",
        "last_name",
        "date_of_birth",
        "postcode",
        "profile",
        "household_id",
        "channel_preference",
        "price_sensitivity",
        "is_returner",
        "is_app_user",
        "favourite_brands",
        "first_active_date",
        "last_active_date",
        "moved_to_postcode",
    ),
    "identifiers.csv": ("identifier_type", "identifier_value", "person_id"),
    "records.csv": ("system", "entity", "record_id", "person_id"),
    "malformed.csv": ("file", "line", "kind"),
}


class TruthFiles:
    """The ground-truth CSVs, opened once and appended chunk by chunk."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = {name: folder / name for name in TRUTH_HEADERS}
        self._handles = {}
        for name, header in TRUTH_HEADERS.items():
            f = self.paths[name].open("w", encoding="utf-8", newline="")
            f.write(csv_line(header) + "\n")
            self._handles[name] = f

    def write(self, name: str, lines: list[str]) -> None:
        if lines:
            self._handles[name].write("\n".join(lines) + "\n")

    def close(self) -> None:
        for f in self._handles.values():
            f.close()


class Sink:
    """Collects the rows of one chunk and appends them to the landing and truth files."""

    def __init__(
        self, out: Path, clock: Clock, first_day: int, last_day: int, truth: TruthFiles, entities: tuple[Entity, ...]
    ) -> None:
        self.out = out
        self.clock = clock
        self.n_days = clock.n_days
        self.lo = first_day
        self.hi = last_day
        self.truth = truth
        self.serializers = {e: Serializer(e) for e in entities}
        self._line = {e: ser.line for e, ser in self.serializers.items()}
        self.totals = Totals()
        self._buffers: dict[tuple[Entity, int, str | None], list[tuple[int, str, str | None]]] = {}
        self._lines: dict[str, int] = {}
        self._paths: dict[tuple[str, int, str | None], str] = {}
        self._bad_keys: set[tuple[Entity, int, str | None]] = set()
        self._dirs: set[Path] = set()
        self._records: list[str] = []
        self._identifiers: list[str] = []
        self.persons: list[str] = []
        self._pid: str | None = None
        self._rng: Random = Random(0)
        self._seen_records: set[tuple[Entity, object]] = set()
        self._seen_ids: dict[tuple[str, str], None] = {}
        self._record_prefix = {e: f"{e.system},{e.name}," for e in entities}

    def begin(self, person_id: str | None, rng: Random) -> None:
        """Rows added until the next begin() belong to person_id ("" = nobody, None = no records)."""
        self._pid = person_id
        self._rng = rng
        self._seen_records.clear()
        self._seen_ids.clear()

    def end(self) -> None:
        pid = self._pid
        if pid:
            for id_type, value in self._seen_ids:
                self._identifiers.append(f"{id_type},{csv_field(value)},{pid}")
        self._seen_ids.clear()

    def path(self, entity: Entity, day: int, store: str | None) -> str:
        """The file (relative to the landing folder) that holds entity's rows delivered on day."""
        key = (entity.folder, day, store)
        path = self._paths.get(key)
        if path is None:
            if entity.layout == "store":
                path = f"{entity.folder}/{self.clock.day_text(day)}/{store}.csv"
            elif entity.layout == "snapshot":
                path = f"{entity.folder}/{self.clock.day_text(day)}.csv"
            else:
                path = f"{entity.folder}/{self.clock.day_text(day)}.{entity.fmt}"
            self._paths[key] = path
        return path

    def in_window(self, day: int) -> bool:
        return self.lo <= day <= self.hi and 0 <= day < self.n_days

    def add(self, entity: Entity, day: int, t: int, row: Row, store: str | None = None) -> None:
        """Deliver row in the file of `day` (sorted by t); may resend it or corrupt the line.

        The random draw happens whether or not the file is emitted, so a person's life never
        depends on the emit window.
        """
        u = self._rng.random() if entity.noisy else 1.0
        if day < 0:
            day = 0
        elif day >= self.n_days:
            return
        emitted = self.lo <= day <= self.hi
        if emitted:
            key = (entity, day, store)
            if u < P_MALFORMED:
                line, kind = self.serializers[entity].malformed(row, u / P_MALFORMED)
                self._bad_keys.add(key)
            else:
                line, kind = self._line[entity](row), None
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = []
            buf.append((t, line, kind))
        if u < P_MALFORMED + P_RESEND and u >= P_MALFORMED and entity.resent:
            again = day if u < P_MALFORMED + P_RESEND / 2 else day + 1
            if self.lo <= again <= self.hi and again < self.n_days:
                self._buffers.setdefault((entity, again, store), []).append((t + 1, self._line[entity](row), None))
                emitted = True
        pid = self._pid
        if emitted and pid is not None and entity.key:
            rid = row[entity.key]
            seen_records = self._seen_records
            if (entity, rid) not in seen_records:
                seen_records.add((entity, rid))
                self._records.append(f"{self._record_prefix[entity]}{rid},{pid}")
            if pid:
                seen = self._seen_ids
                for col, id_type in entity.identifiers:
                    v = row.get(col)
                    if v:
                        seen[(id_type, v)] = None

    def touch(self, entity: Entity, day: int, store: str | None = None) -> None:
        """Create the (header-only) file of `day` if nothing was delivered to it."""
        if self.in_window(day) and self.path(entity, day, store) not in self._lines:
            self._buffers.setdefault((entity, day, store), [])

    def flush(self) -> None:
        malformed: list[str] = []
        files, rows = self.totals.files, self.totals.rows
        by_path = sorted((self.path(*key), key) for key in self._buffers)
        for path, key in by_path:
            entity, items = key[0], self._buffers[key]
            items.sort(key=itemgetter(0))
            n = self._lines.get(path)
            header = ""
            if n is None:
                full = self.out / path
                if full.parent not in self._dirs:
                    full.parent.mkdir(parents=True, exist_ok=True)
                    self._dirs.add(full.parent)
                n = 0
                if self.serializers[entity].header is not None:
                    header = self.serializers[entity].header + "\n"
                    n = 1
                files[entity.folder] = files.get(entity.folder, 0) + 1
            if key in self._bad_keys:
                malformed.extend(f"{path},{n + i},{kind}" for i, (_, _, kind) in enumerate(items, 1) if kind)
            n += len(items)
            rows[entity.folder] = rows.get(entity.folder, 0) + len(items)
            self._lines[path] = n
            text = header + "".join([line + "\n" for _, line, _ in items])
            with (self.out / path).open("ab") as f:
                f.write(text.encode("utf-8"))
        self._buffers.clear()
        self._bad_keys.clear()
        self.totals.malformed += len(malformed)
        self.truth.write("malformed.csv", malformed)
        self.truth.write("records.csv", self._records)
        self.truth.write("identifiers.csv", self._identifiers)
        self.truth.write("persons.csv", self.persons)
        self._records.clear()
        self._identifiers.clear()
        self.persons.clear()
