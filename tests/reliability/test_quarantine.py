"""Bad input is quarantined with a reason while the rest loads, and no line is ever lost.

Already proven in tests/test_ingest.py and tests/test_end_to_end.py (not repeated here): malformed
and truncated JSON lines, wrong types, missing required fields and columns, too many columns,
undocumented JSON keys kept and reported, a delivery sent twice loading once, and every generated
malformed row rejected while no good row is. This module adds: wrong encodings, oversized values,
future timestamps, files truncated at the end, unclosed quotes and mixed line endings, undocumented
CSV columns, and empty lines (which must not shift line numbers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest import ingest
from pipelines.landing import MAX_VALUE_CHARS
from tests.reliability.conftest import data_lines

HEADER = "crm_id,first_name,email,created_at,updated_at\n"
OK = "C{n},Ann,ann{n}@x.test,2026-01-01T10:00:00Z,2026-01-02T10:00:00Z\n"
WEB = (
    '{{"event_id":"e{n}","event_type":"page_view","anonymous_id":"c{n}",'
    '"timestamp":"2026-01-01T10:00:00Z","received_at":"2026-01-01T10:00:01Z"}}'
)


def _write(root: Path, relative: str, data: bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _ok(n: int) -> bytes:
    return OK.format(n=n).encode()


def _web(n: int) -> bytes:
    return WEB.format(n=n).encode() + b"\n"


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _reconciles(landing: Path, warehouse: Path, system: str) -> None:
    """Every file: rows read = its data lines = loaded + rejected = its raw rows + its rejected rows."""
    files = _rows(warehouse, f"select file_path, rows_read, rows_loaded, rows_rejected from raw_{system}.loaded_files")
    assert files
    for path, read, loaded, rejected in files:
        assert read == data_lines(landing / path) == loaded + rejected, path
        (in_rejected,) = _rows(
            warehouse, f"select count(*) from raw_{system}.rejected_rows where file_path = '{path}'"
        )[0]
        assert in_rejected == rejected, path


@pytest.fixture()
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "landing", tmp_path / "warehouse" / "kith.duckdb"


def test_wrong_encoding_rejects_the_line_not_the_file(paths) -> None:
    landing, warehouse = paths
    _write(
        landing,
        "crm/contacts/2026-01-01.csv",
        HEADER.encode() + _ok(1) + b"C2,Ren\xe9e,r@x.test,2026-01-01,2026-01-01\n" + _ok(3),
    )
    _write(landing, "web/events/2026-01-01.jsonl", _web(1) + b'{"event_id":"e2","anonymous_id":"c\xe9"}\n' + _web(3))
    ingest(landing, warehouse, systems=["crm", "web"])
    assert _rows(warehouse, "select crm_id from raw_crm.contacts order by 1") == [("C1",), ("C3",)]
    assert _rows(warehouse, "select event_id from raw_web.events order by 1") == [("e1",), ("e3",)]
    for system, line in (("crm", 3), ("web", 2)):
        ((file_line, reason),) = _rows(warehouse, f"select line_number, reason from raw_{system}.rejected_rows")
        assert file_line == line and "utf-8" in reason.lower()
        _reconciles(landing, warehouse, system)


def test_oversized_values_are_rejected_with_the_limit(paths) -> None:
    landing, warehouse = paths
    long = "x" * (MAX_VALUE_CHARS + 1)
    at_limit = "y" * MAX_VALUE_CHARS
    _write(
        landing,
        "crm/contacts/2026-01-01.csv",
        (
            HEADER
            + f"C1,{long},a@x.test,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z\n"
            + f"C2,{at_limit},b@x.test,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z\n"
        ).encode(),
    )
    # an undocumented column is text too: the same limit applies
    _write(landing, "web/events/2026-01-01.jsonl", _web(1)[:-2] + f',"blob":"{long}"}}\n'.encode() + _web(2))
    ingest(landing, warehouse, systems=["crm", "web"])
    assert _rows(warehouse, "select crm_id, length(first_name) from raw_crm.contacts") == [("C2", MAX_VALUE_CHARS)]
    ((line, reason),) = _rows(warehouse, "select line_number, reason from raw_crm.rejected_rows")
    assert line == 2 and "first_name" in reason and f"{MAX_VALUE_CHARS + 1} characters" in reason
    ((line, reason),) = _rows(warehouse, "select line_number, reason from raw_web.rejected_rows")
    assert line == 1 and "blob" in reason
    assert _rows(warehouse, "select event_id from raw_web.events") == [("e2",)]
    _reconciles(landing, warehouse, "crm")
    _reconciles(landing, warehouse, "web")


def test_future_timestamps_are_rejected(paths, monkeypatch: pytest.MonkeyPatch) -> None:
    landing, warehouse = paths
    monkeypatch.setenv("KITH_MAX_FUTURE_HOURS", "24")
    now = datetime.now(UTC)
    soon = (now.replace(microsecond=0)).isoformat().replace("+00:00", "Z")  # within the margin: loads
    later = now.replace(year=now.year + 1).isoformat().replace("+00:00", "Z")
    _write(
        landing,
        "crm/contacts/2026-01-01.csv",
        (HEADER + f"C1,Ann,a@x.test,{later},{later}\n" + f"C2,Bo,b@x.test,{soon},{soon}\n").encode(),
    )
    ingest(landing, warehouse, systems=["crm"])
    assert _rows(warehouse, "select crm_id from raw_crm.contacts") == [("C2",)]
    ((line, reason),) = _rows(warehouse, "select line_number, reason from raw_crm.rejected_rows")
    assert line == 2 and "created_at" in reason and "updated_at" in reason and "in the future" in reason
    _reconciles(landing, warehouse, "crm")


def test_truncated_files_lose_no_line(paths) -> None:
    landing, warehouse = paths
    _write(landing, "crm/contacts/2026-01-01.csv", HEADER.encode() + _ok(1) + _ok(2) + b"C3,Ann,ann3@x")  # cut mid-row
    _write(landing, "web/events/2026-01-01.jsonl", _web(1) + _web(2) + b'{"event_id":"e3","event_')  # cut mid-object
    ingest(landing, warehouse, systems=["crm", "web"])
    assert _rows(warehouse, "select count(*) from raw_crm.contacts") == [(2,)]
    assert _rows(warehouse, "select count(*) from raw_web.events") == [(2,)]
    assert _rows(warehouse, "select line_number from raw_crm.rejected_rows") == [(4,)]
    assert _rows(warehouse, "select line_number from raw_web.rejected_rows") == [(3,)]
    _reconciles(landing, warehouse, "crm")
    _reconciles(landing, warehouse, "web")


def test_a_file_the_reader_cannot_split_is_quarantined_whole_and_the_others_load(paths) -> None:
    """An unclosed quote swallows the lines after it, and mixed line endings stop DuckDB's reader:
    either would lose lines or fail the batch. Such a file is quarantined, every line with the
    reason; the other files of the batch load; a JSONL file with mixed line endings just loads."""
    landing, warehouse = paths
    _write(
        landing,
        "crm/contacts/2026-01-01.csv",
        HEADER.encode() + _ok(1) + b'C2,"Ann,a@x.test,2026-01-01,2026-01-01\n' + _ok(3),
    )
    _write(landing, "crm/contacts/2026-01-02.csv", HEADER.encode() + _ok(4) + _ok(5).replace(b"\n", b"\r\n") + _ok(6))
    _write(landing, "crm/contacts/2026-01-03.csv", HEADER.encode() + _ok(7))
    _write(landing, "web/events/2026-01-01.jsonl", _web(1).replace(b"\n", b"\r\n") + _web(2) + _web(3))
    summary = ingest(landing, warehouse, systems=["crm", "web"])
    assert _rows(warehouse, "select crm_id from raw_crm.contacts") == [("C7",)]
    rejected = _rows(warehouse, "select file_path, line_number, reason from raw_crm.rejected_rows order by 1, 2")
    assert [(f[-14:], n) for f, n, _ in rejected] == [
        ("2026-01-01.csv", 2),
        ("2026-01-01.csv", 3),
        ("2026-01-01.csv", 4),
        ("2026-01-02.csv", 2),
        ("2026-01-02.csv", 3),
        ("2026-01-02.csv", 4),
    ]
    assert all("every line of the file is quarantined" in reason for _, _, reason in rejected)
    assert _rows(warehouse, "select event_id, _kith_line from raw_web.events order by 1") == [
        ("e1", 1),
        ("e2", 2),
        ("e3", 3),
    ]
    assert summary.rows_read == summary.rows_loaded + summary.rows_rejected == 7 + 3
    _reconciles(landing, warehouse, "crm")
    _reconciles(landing, warehouse, "web")


def test_undocumented_csv_columns_load_and_are_reported(paths) -> None:
    landing, warehouse = paths
    _write(
        landing,
        "crm/contacts/2026-01-01.csv",
        (HEADER.strip() + ",favourite_colour\n" + OK.format(n=1).strip() + ",teal\n").encode(),
    )
    summary = ingest(landing, warehouse, systems=["crm"])
    assert _rows(warehouse, "select crm_id, favourite_colour from raw_crm.contacts") == [("C1", "teal")]
    assert _rows(warehouse, "select new_columns from raw_crm.loaded_files") == [("favourite_colour",)]
    assert {c for e in summary.entities for c in e.new_columns} == {"favourite_colour"}


def test_empty_lines_do_not_shift_line_numbers(paths) -> None:
    """DuckDB's CSV reader skips empty lines; lineage must still name the physical line (an erasure
    empties lines and relies on it)."""
    landing, warehouse = paths
    _write(
        landing, "crm/contacts/2026-01-01.csv", HEADER.encode() + _ok(1) + b"\n" + _ok(2) + b"\n\n" + b"C3,x\n" + _ok(4)
    )
    _write(
        landing,
        "crm/contacts/2026-01-02.csv",
        (HEADER + OK.format(n=5) + "\r\n" + OK.format(n=6)).replace("\n", "\r\n").replace("\r\r", "\r").encode(),
    )
    ingest(landing, warehouse, systems=["crm"])
    lines = _rows(warehouse, "select crm_id, _kith_line from raw_crm.contacts order by 1")
    assert lines == [("C1", 2), ("C2", 4), ("C4", 8), ("C5", 2), ("C6", 4)]
    assert _rows(warehouse, "select line_number from raw_crm.rejected_rows") == [(7,)]
    _reconciles(landing, warehouse, "crm")
