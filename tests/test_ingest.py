"""Ingestion: every row is loaded or rejected with a reason, reruns load nothing, the contract
in code matches the documented landing formats."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kith.config import PROJECT_DIR, UserError
from pipelines.ingest import ingest
from pipelines.sources import SYSTEMS, entities

WEB_EVENTS = """\
{"event_id":"e1","event_type":"page_view","anonymous_id":"c1","timestamp":"2026-01-01T10:00:00+01:00","received_at":"2026-01-01T09:00:01Z","page":{"url":"https://kith.example/a","path":"/a"},"context":{"utm":{"source":"google"}}}
{"event_id":"e2","event_type":"identify","anonymous_id":"c1","traits":{"email":" Jane@X.com "},"timestamp":"2026-01-01T10:01:00+01:00","received_at":"2026-01-01T09:01:01Z","new_key":"hello"}
{"event_id":"e3","event_type":"product_view",
{"event_id":"e4","event_type":"product_view","anonymous_id":"c2","timestamp":"not a time","received_at":"2026-01-01T09:01:01Z","product":{"sku":"S1","price":"abc"}}

{"event_id":"","event_type":"page_view","anonymous_id":"c3","timestamp":"2026-01-01T10:00:00Z","received_at":"2026-01-01T10:00:00Z"}
["not", "an", "object"]
{"event_id":"e1","event_type":"page_view","anonymous_id":"c1","timestamp":"2026-01-01T10:00:00+01:00","received_at":"2026-01-01T09:00:01Z"}
"""  # noqa: E501 (one JSON object per line, as delivered)

POS_TRANSACTIONS = """\
transaction_id,store_id,business_date,transaction_time,loyalty_number,total_amount,currency,till_operator
T1,S01,2026-01-01,2026-01-01 10:00:00+00:00,L1,10.50,GBP,ann
T2,S01,2026-01-01,2026-01-01 10:05:00+00:00,,12.00,GBP,bob,too,many
T3,S01,2026-01-01,2026-01-01 10:06:00+00:00,,12.5,GBP,cy
T4,S01,2026-01-01,2026-01-01 10:07:00+00:00,L2,abc,GBP,dee
T5,S01,2026-13-01,2026-01-01 10:08:00+00:00,L2,1.00,GBP,eve
T6,S01,2026-01-01,2026-01-01 10:09:00+01:00,L3,2.00,GBP,fay
"""

# Same entity, columns in another order, and no optional `currency`: matched by header name.
POS_TRANSACTIONS_REORDERED = """\
total_amount,transaction_id,transaction_time,business_date,store_id
3.00,T7,2026-01-02 09:00:00+00:00,2026-01-02,S02
"""

CRM_DAY1 = """\
crm_id,first_name,email,email_opt_in,created_at,updated_at
C1,Jane,jane@x.com,yes,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z
C2,Bob,bob@x.com,no,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z
"""
CRM_DAY2 = """\
crm_id,first_name,email,email_opt_in,created_at,updated_at
C1,Janet,janet@x.com,0,2026-01-01T10:00:00Z,2026-01-02T10:00:00Z
C2,Bobby,stale@x.com,1,2026-01-01T10:00:00Z,2025-12-31T10:00:00Z
C3,Cy,,maybe,2026-01-02T10:00:00Z,2026-01-02T10:00:00Z
"""


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _data_lines(path: Path) -> int:
    """Rows in a landing file counted independently of the loader: non-blank lines less the CSV header."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return len(lines) - (1 if path.suffix == ".csv" else 0)


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    _write(root, "web/events/2026-01-01.jsonl", WEB_EVENTS)
    _write(root, "pos/transactions/2026-01-01/S01.csv", POS_TRANSACTIONS)
    _write(root, "pos/transactions/2026-01-02/S02.csv", POS_TRANSACTIONS_REORDERED)
    _write(root, "crm/contacts/2026-01-01.csv", CRM_DAY1)
    _write(root, "crm/contacts/2026-01-02.csv", CRM_DAY2)
    return root


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "kith.duckdb"


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_bad_rows_are_rejected_with_file_line_and_reason(landing: Path, warehouse: Path) -> None:
    ingest(landing, warehouse, systems=["web", "pos", "crm"])
    rejected = {
        (f, line): reason
        for f, line, reason in _query(warehouse, "select file_path, line_number, reason from raw_web.rejected_rows")
    }
    web = "web/events/2026-01-01.jsonl"
    assert set(rejected) == {(web, 3), (web, 4), (web, 6), (web, 7)}
    assert "malformed JSON" in rejected[(web, 3)]
    assert "occurred_at" in rejected[(web, 4)] and "product_price" in rejected[(web, 4)]
    assert rejected[(web, 6)] == "required column event_id is missing"
    assert "not a valid JSON object" in rejected[(web, 7)]

    pos = {
        line: reason
        for line, reason in _query(
            warehouse, "select line_number, reason from raw_pos.rejected_rows where file_path like '%S01.csv'"
        )
    }
    assert set(pos) == {3, 5, 6}  # the header is line 1
    assert "TOO MANY COLUMNS" in pos[3]
    assert "total_amount" in pos[5]
    assert "business_date" in pos[6]


def test_loaded_rows_keep_lineage_types_and_utc(landing: Path, warehouse: Path) -> None:
    ingest(landing, warehouse, systems=["web", "pos"])
    rows = _query(
        warehouse,
        "select event_id, _kith_line, email, utm_source, new_key, occurred_at::varchar "
        "from raw_web.events order by _kith_line",
    )
    # line 8 resends e1: raw keeps it (append), staging de-duplicates
    assert [r[:2] for r in rows] == [("e1", 1), ("e2", 2), ("e1", 8)]
    assert rows[1][2] == " Jane@X.com "  # raw stays raw: normalisation is staging's job
    assert rows[0][3] == "google"  # nested JSON flattened along the documented path
    assert rows[1][4] == "hello"  # an undocumented key evolves into a new text column
    assert rows[0][5].startswith("2026-01-01 09:00:00")  # +01:00 converted to UTC
    pos = _query(
        warehouse,
        "select transaction_id, _kith_line, total_amount, transaction_time::varchar, till_operator "
        "from raw_pos.transactions order by transaction_id",
    )
    assert [(t, line) for t, line, *_ in pos] == [("T1", 2), ("T3", 4), ("T6", 7), ("T7", 2)]
    assert str(pos[1][2]) == "12.50"
    assert pos[2][3].startswith("2026-01-01 09:09:00")  # 10:09+01:00
    assert pos[3][4] is None  # reordered file without the extra column
    types = dict(
        _query(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_pos' and table_name = 'transactions'",
        )
    )
    # the loader keeps the file column dictionary-encoded; the warehouse holds plain relative paths
    assert types["_kith_file"] == "VARCHAR"
    files = _query(warehouse, "select distinct _kith_file from raw_pos.transactions order by 1")
    assert files == [("pos/transactions/2026-01-01/S01.csv",), ("pos/transactions/2026-01-02/S02.csv",)]
    assert types["total_amount"] == "DECIMAL(18,2)"
    assert types["business_date"] == "DATE"
    assert types["transaction_time"] == "TIMESTAMP WITH TIME ZONE"


def test_counts_reconcile_with_the_files(landing: Path, warehouse: Path) -> None:
    summary = ingest(landing, warehouse, systems=["web", "pos", "crm"])
    for system in ("web", "pos", "crm"):
        manifest = _query(
            warehouse,
            f"select file_path, rows_read, rows_loaded, rows_rejected from raw_{system}.loaded_files",
        )
        assert manifest
        for file_path, read, loaded, rejected in manifest:
            assert read == _data_lines(landing / file_path), file_path
            assert read == loaded + rejected, file_path
            (in_rejected,) = _query(
                warehouse, f"select count(*) from raw_{system}.rejected_rows where file_path = '{file_path}'"
            )[0]
            assert in_rejected == rejected, file_path
    # append entities keep every loaded row
    for system, table in (("web", "events"), ("pos", "transactions")):
        (raw_rows,) = _query(warehouse, f"select count(*) from raw_{system}.{table}")[0]
        (loaded,) = _query(warehouse, f"select sum(rows_loaded) from raw_{system}.loaded_files")[0]
        assert raw_rows == loaded
    assert (
        summary.rows_read
        == summary.rows_loaded + summary.rows_rejected
        == sum(_data_lines(p) for p in landing.rglob("*.*"))
    )


def test_merge_keeps_the_latest_version(landing: Path, warehouse: Path) -> None:
    ingest(landing, warehouse, systems=["crm"])
    rows = _query(warehouse, "select crm_id, first_name, email, email_opt_in from raw_crm.contacts order by 1")
    # C1 updated on day 2; C2's day-2 row is older than day 1's and must not win; C3's bool is bad
    assert rows == [("C1", "Janet", "janet@x.com", False), ("C2", "Bob", "bob@x.com", False)]
    (reason,) = _query(warehouse, "select reason from raw_crm.rejected_rows")[0]
    assert "email_opt_in" in reason


def test_rerun_loads_nothing_new_and_duplicate_delivery_loads_once(landing: Path, warehouse: Path) -> None:
    ingest(landing, warehouse, systems=["web", "pos"])
    before = _query(
        warehouse, "select (select count(*) from raw_web.events), (select count(*) from raw_pos.transactions)"
    )
    again = ingest(landing, warehouse, systems=["web", "pos"])
    assert again.rows_read == 0
    assert all(e.files_new == 0 for e in again.entities)
    # the same delivery under another name
    _write(landing, "web/events/2026-01-01-resent.jsonl", WEB_EVENTS)
    third = ingest(landing, warehouse, systems=["web", "pos"])
    assert third.rows_read == 0
    assert [e.files_duplicate for e in third.entities if e.entity == "events"] == [1]
    fourth = ingest(landing, warehouse, systems=["web", "pos"])
    assert all(e.files_new == e.files_duplicate == 0 for e in fourth.entities)
    after = _query(
        warehouse, "select (select count(*) from raw_web.events), (select count(*) from raw_pos.transactions)"
    )
    assert before == after
    dup = _query(warehouse, "select file_path, duplicate_of from raw_web.loaded_files where duplicate_of is not null")
    assert dup == [("web/events/2026-01-01-resent.jsonl", "web/events/2026-01-01.jsonl")]
    # a genuinely new file is loaded
    _write(landing, "web/events/2026-01-02.jsonl", WEB_EVENTS.splitlines()[0].replace("e1", "e9") + "\n")
    assert ingest(landing, warehouse, systems=["web"]).rows_loaded == 1


def test_csv_header_and_line_counts_are_read_with_the_hash(tmp_path: Path) -> None:
    """One read of a file gives its hash, its header and its line counts: a byte-order mark, CRLF
    line ends, empty lines and a last line without a line break are counted as the reader sees them."""
    import hashlib

    from pipelines.landing import describe

    content = b"\xef\xbb\xbfid, name\r\n\r\n1,a\r\n2,b\r\n\r\n\r\n3,c"
    path = tmp_path / "crm" / "contacts" / "f.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    jsonl = tmp_path / "web" / "events" / "e.jsonl"
    jsonl.parent.mkdir(parents=True)
    jsonl.write_bytes(b'{"a": 1}\n')
    csv_file, json_file = describe(tmp_path, [path, jsonl])
    assert csv_file.relative == "crm/contacts/f.csv"
    assert csv_file.sha256 == hashlib.sha256(content).hexdigest()
    assert csv_file.size == len(content)
    assert csv_file.csv_header == ("id", "name")
    assert csv_file.csv_lines == (3, (2, 5, 6))  # 3 data lines; lines 2, 5 and 6 are empty
    assert json_file.csv_header is None and json_file.csv_lines is None


def _count_combined_scans(monkeypatch) -> list[int]:
    """Records the number of files of every combined scan (EntityReader._combine) while it still runs."""
    from pipelines.landing import EntityReader

    combined: list[int] = []
    real = EntityReader._combine

    def spy(self, files, header):
        combined.append(len(files))
        return real(self, files, header)

    monkeypatch.setattr(EntityReader, "_combine", spy)
    return combined


def test_small_csv_files_read_as_one_keep_their_files_and_lines(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small files of one header are parsed as one combined file; every row and every rejected line
    still names its own file and physical line (empty lines, a missing last line break, a file with
    no data, a line with too many columns, a bad value)."""
    header = "transaction_id,store_id,business_date,transaction_time,total_amount\n"
    row = "{t},S1,2026-01-01,2026-01-01T10:00:00Z,{amount}\n"
    root = tmp_path / "landing"
    _write(
        root,
        "pos/transactions/2026-01-01/S1.csv",
        header
        + row.format(t="T1", amount="1.00")
        + "\n"
        + "T2,S1,2026-01-01,2026-01-01T10:00:00Z,2.00,extra\n"
        + row.format(t="T3", amount="3.00").rstrip("\n"),
    )
    _write(root, "pos/transactions/2026-01-01/S2.csv", header)
    _write(
        root,
        "pos/transactions/2026-01-01/S3.csv",
        "\n".join([header.strip(), "", row.format(t="T4", amount="4.00")]) + row.format(t="T5", amount="five"),
    )
    combined = _count_combined_scans(monkeypatch)
    summary = ingest(root, warehouse, systems=["pos"])
    assert combined == [3]  # the three files went through one combined scan
    rows = _query(warehouse, "select transaction_id, _kith_file, _kith_line from raw_pos.transactions order by 1")
    assert rows == [
        ("T1", "pos/transactions/2026-01-01/S1.csv", 2),
        ("T3", "pos/transactions/2026-01-01/S1.csv", 5),
        ("T4", "pos/transactions/2026-01-01/S3.csv", 3),
    ]
    rejected = _query(warehouse, "select file_path, line_number, reason from raw_pos.rejected_rows order by 1")
    assert [(f, n) for f, n, _ in rejected] == [
        ("pos/transactions/2026-01-01/S1.csv", 4),
        ("pos/transactions/2026-01-01/S3.csv", 4),
    ]
    assert "TOO MANY COLUMNS" in rejected[0][2] and "total_amount" in rejected[1][2]
    files = _query(
        warehouse, "select file_path, rows_read, rows_loaded, rows_rejected from raw_pos.loaded_files order by 1"
    )
    assert [f[1:] for f in files] == [(3, 2, 1), (0, 0, 0), (2, 1, 1)]
    assert summary.rows_read == 5


def test_small_jsonl_files_read_as_one_keep_their_files_and_lines(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small JSONL files are parsed as one combined file too: blank lines, a missing last line
    break, an empty file, a malformed line and an undocumented key (which makes the batch be read a
    second time) all keep their own file and line."""
    event = '{{"event_id":"{e}","event_type":"page_view","anonymous_id":"c1",'
    event += '"timestamp":"2026-01-01T10:00:00Z","received_at":"2026-01-01T10:00:01Z"{more}}}\n'
    root = tmp_path / "landing"
    _write(root, "web/events/2026-01-01.jsonl", event.format(e="e1", more="") + "\n" + '{"event_id":"e2",\n')
    _write(root, "web/events/2026-01-02.jsonl", "")
    _write(root, "web/events/2026-01-03.jsonl", "\n\n" + event.format(e="e3", more=',"colour":"teal"').rstrip("\n"))
    _write(root, "web/events/2026-01-04.jsonl", event.format(e="e4", more="") + "\n")
    combined = _count_combined_scans(monkeypatch)
    summary = ingest(root, warehouse, systems=["web"])
    assert combined == [4]  # the four files went through one combined scan
    rows = _query(warehouse, "select event_id, _kith_file, _kith_line, colour from raw_web.events order by 1")
    assert rows == [
        ("e1", "web/events/2026-01-01.jsonl", 1, None),
        ("e3", "web/events/2026-01-03.jsonl", 3, "teal"),
        ("e4", "web/events/2026-01-04.jsonl", 1, None),
    ]
    rejected = _query(warehouse, "select file_path, line_number, reason from raw_web.rejected_rows")
    assert rejected == [("web/events/2026-01-01.jsonl", 3, "malformed JSON: not a valid JSON object")]
    files = _query(
        warehouse, "select file_path, rows_read, rows_loaded, rows_rejected from raw_web.loaded_files order by 1"
    )
    assert [f[1:] for f in files] == [(2, 1, 1), (0, 0, 0), (1, 1, 0), (1, 1, 0)]
    assert summary.rows_read == 4


def test_a_failed_load_fails_the_run_and_the_next_run_loads_everything(
    landing: Path, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loads run in a second thread while the next system is extracted: a load that fails still
    fails the run, and the next run gives the warehouse one clean run gives."""
    import pipelines.ingest as ingest_module

    systems = ["web", "pos", "crm"]
    reference = tmp_path / "reference" / "kith.duckdb"
    ingest(landing, reference, systems=systems)
    real = ingest_module._normalize_and_load

    def failing(pipeline, target):
        if pipeline.pipeline_name == "kith_pos":
            raise RuntimeError("disk full")
        return real(pipeline, target)

    monkeypatch.setattr(ingest_module, "_normalize_and_load", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(landing, warehouse, systems=systems)
    monkeypatch.setattr(ingest_module, "_normalize_and_load", real)
    ingest(landing, warehouse, systems=systems)
    for table in ("web.events", "pos.transactions", "crm.contacts", "pos.rejected_rows"):
        columns = "* exclude (_dlt_load_id" + (", rejected_at)" if "rejected" in table else ")")
        sql = f"select {columns} from raw_{table} order by all"
        assert _query(warehouse, sql) == _query(reference, sql), table
    sql = "select file_path, rows_read, rows_loaded, rows_rejected from raw_pos.loaded_files order by 1"
    assert _query(warehouse, sql) == _query(reference, sql)


def test_missing_required_column_rejects_rows_not_the_file(tmp_path: Path, warehouse: Path) -> None:
    root = tmp_path / "landing"
    _write(root, "pos/transactions/2026-01-01/S01.csv", "transaction_id,store_id\nT1,S01\nT2,S01\n")
    summary = ingest(root, warehouse, systems=["pos"])
    assert summary.rows_read == 2 and summary.rows_rejected == 2
    reasons = [r[0] for r in _query(warehouse, "select reason from raw_pos.rejected_rows")]
    assert all("business_date" in r and "total_amount" in r for r in reasons)


def test_locked_warehouse_is_a_one_line_user_error(landing: Path, warehouse: Path) -> None:
    warehouse.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError, match="locked by another process"):
            ingest(landing, warehouse, systems=["web"])
    finally:
        holder.kill()
        holder.wait()


def test_missing_landing_folder_is_a_user_error(tmp_path: Path, warehouse: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        ingest(tmp_path / "nope", warehouse)


# -- the contract in code equals the documented landing formats -------------------------------
def _documented_entities() -> dict[str, dict]:
    text = (PROJECT_DIR / "docs" / "landing_formats.md").read_text(encoding="utf-8")
    found: dict[str, dict] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"`(\w+)/(\w+)/[^`]*`.*?\b(append|merge), key ((?:`\w+`(?:, )?)+)", line)
        if not m:
            continue
        system, entity, disposition, keys = m.groups()
        j = i + 1
        while j < len(lines) and not lines[j].startswith("|"):
            j += 1
        header = [c.strip() for c in lines[j].strip("|").split("|")]
        columns = {}
        for row in lines[j + 2 :]:
            if not row.startswith("|"):
                break
            cells = dict(zip(header, (c.strip() for c in row.strip("|").split("|")), strict=True))
            type_cell = cells["type"]
            columns[cells["column"]] = {
                "type": type_cell.split(",")[0].strip(),
                "required": "required" in type_cell,
                "path": cells.get("JSON path"),
            }
        found[f"{system}.{entity}"] = {
            "disposition": disposition,
            "key": tuple(re.findall(r"`(\w+)`", keys)),
            "columns": columns,
        }
    return found


def test_code_contract_matches_documented_landing_formats() -> None:
    documented = _documented_entities()
    in_code = {f"{e.system}.{e.name}": e for s in SYSTEMS for e in entities(s)}
    assert set(documented) == set(in_code)
    for name, entity in in_code.items():
        doc = documented[name]
        assert doc["disposition"] == entity.disposition, name
        assert doc["key"] == entity.primary_key, name
        assert list(doc["columns"]) == [c.name for c in entity.columns], name
        for col in entity.columns:
            d = doc["columns"][col.name]
            assert (d["type"], d["required"]) == (col.type, col.required), f"{name}.{col.name}"
            if entity.format == "jsonl":
                assert d["path"] == (col.path or col.name), f"{name}.{col.name}"
