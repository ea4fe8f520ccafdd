"""`kith audit`: every source reconciled from the landing files to raw, staging and the marts, every
difference explained, and a non-zero exit for anything that is not."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from pipelines.sources import SYSTEMS, entities
from tests.conftest import Sample, run_kith
from tests.reliability.conftest import copy_sample, data_lines, query


def _audit(env: dict[str, str]) -> tuple[int, dict, str]:
    proc = run_kith(env, "audit")
    report = json.loads((Path(env["KITH_REPORTS"]) / "audit.json").read_text())
    return proc.returncode, report, proc.stdout + proc.stderr


def test_the_built_sample_reconciles_from_landing_to_marts(built_sample: Sample, tmp_path: Path) -> None:
    env = {**built_sample.env, "KITH_REPORTS": str(tmp_path / "reports")}
    code, report, output = _audit(env)
    assert code == 0, output
    assert report["unexplained"] == [] and "every difference is explained" in output
    flows = {f["name"]: f for f in report["flows"]}
    assert set(flows) == {f"{s}.{e.name}" for s in SYSTEMS for e in entities(s)}
    # independent counts: the lines of the landing files, the rows of the warehouse
    lines: dict[str, int] = defaultdict(int)
    duplicates = {
        path
        for system in SYSTEMS
        for (path,) in query(
            built_sample.warehouse, f"select file_path from raw_{system}.loaded_files where duplicate_of is not null"
        )
    }
    for path in built_sample.landing.rglob("*.*"):
        relative = path.relative_to(built_sample.landing).as_posix()
        if relative not in duplicates:
            system, entity = relative.split("/")[:2]
            lines[f"{system}.{entity}"] += data_lines(path)
    for name, flow in flows.items():
        system, entity = name.split(".")
        assert flow["landing_rows"] == lines[name] == flow["rejected"] + flow["loaded"], name
        (raw,) = query(built_sample.warehouse, f"select count(*) from raw_{system}.{entity}")[0]
        assert flow["raw"] == raw, name
        assert flow["raw"] == flow["loaded"] - flow["superseded"], name
        if flow["staging"] is not None:
            assert flow["staging"] == flow["raw"] - flow["resent"], name
    # what the marts leave out is explained: orphan lines whose transaction header was rejected
    store_lines = next(m for m in flows["pos.transaction_lines"]["marts"] if m["mart"] == "marts.fct_order_lines")
    (mart_rows,) = query(
        built_sample.warehouse, "select count(*) from marts.fct_order_lines where order_channel = 'store'"
    )[0]
    assert store_lines["rows"] == mart_rows == flows["pos.transaction_lines"]["staging"] - store_lines["orphans"]
    assert sum(i["values"] for f in flows.values() for i in f["identity"]) > 0
    assert all(i["unexplained"] == 0 for f in flows.values() for i in f["identity"])


@pytest.fixture()
def tampered(built_sample: Sample, tmp_path: Path) -> dict[str, str]:
    env = copy_sample(built_sample, tmp_path)
    landing = Path(env["KITH_LANDING"])
    con = duckdb.connect(env["KITH_WAREHOUSE"])
    try:
        con.execute("insert into raw_web.events select * from raw_web.events limit 1")  # a row loaded twice
        con.execute("delete from raw_pos.transactions where rowid = (select min(rowid) from raw_pos.transactions)")
        con.execute(
            "delete from marts.fct_orders where order_id = "
            "(select min(order_id) from marts.fct_orders where order_channel = 'online')"
        )
        con.execute("delete from raw_shop.rejected_rows where rowid = (select min(rowid) from raw_shop.rejected_rows)")
    finally:
        con.close()
    changed = sorted((landing / "crm" / "contacts").iterdir())[0]
    changed.write_bytes(changed.read_bytes() + changed.read_bytes().splitlines(keepends=True)[-1])
    new = landing / "qr" / "scans" / "2099-01-01.jsonl"  # delivered, not ingested yet: pending, not an error
    new.write_bytes(b'{"scan_id": "new"}\n')
    return env


def test_unexplained_differences_are_listed_and_fail(tampered: dict[str, str]) -> None:
    code, report, output = _audit(tampered)
    assert code == 1
    problems = "\n".join(report["unexplained"])
    assert "web.events: 1 raw rows are second copies of a landing line" in problems
    assert "pos.transactions: raw holds" in problems
    assert "crm.contacts: crm/contacts/" in problems and "changed after it was loaded" in problems
    assert "shop.orders: 1 staging rows are missing from marts.fct_orders" in problems
    assert "shop." in problems and "rows in rejected_rows, expected" in problems
    sources = {problem.split(":")[0] for problem in report["unexplained"]}
    assert {"web.events", "pos.transactions", "crm.contacts", "shop.orders"} <= sources
    assert sources <= {
        "web.events",
        "pos.transactions",
        "crm.contacts",
        "shop.orders",
        "shop.customers",
        "shop.order_lines",
    }
    assert report["pending_files"] == ["qr/scans/2099-01-01.jsonl"]
    assert "unexplained difference(s)" in output
