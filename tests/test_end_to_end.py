"""Generated sample -> ingest -> dbt build, checked against the files and the ground truth."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from kith.config import PROJECT_DIR
from pipelines.sources import SYSTEMS, entities
from tests.conftest import Sample, run_kith


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _data_lines(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        n = sum(1 for line in handle if line.strip())
    return n - (1 if path.suffix == ".csv" else 0)


def test_every_source_entity_loads_rows(sample: Sample) -> None:
    for system in SYSTEMS:
        for entity in entities(system):
            (n,) = _rows(sample.warehouse, f"select count(*) from raw_{system}.{entity.name}")[0]
            assert n > 0, f"raw_{system}.{entity.name} is empty"


def test_rejected_rows_are_exactly_the_injected_malformed_rows(sample: Sample) -> None:
    with (sample.truth / "malformed.csv").open(newline="") as handle:
        injected = {(r["file"], int(r["line"])) for r in csv.DictReader(handle)}
    assert injected, "the generator must inject malformed rows"
    rejected = set()
    for system in SYSTEMS:
        rejected |= set(_rows(sample.warehouse, f"select file_path, line_number from raw_{system}.rejected_rows"))
    assert injected - rejected == set(), "malformed rows that were loaded"
    assert rejected - injected == set(), "good rows that were rejected"


def test_counts_reconcile_with_every_landing_file(sample: Sample) -> None:
    files = sorted(p for p in sample.landing.rglob("*") if p.is_file())
    recorded: dict[str, tuple] = {}
    for system in SYSTEMS:
        for path, read, loaded, rejected, duplicate_of in _rows(
            sample.warehouse,
            f"select file_path, rows_read, rows_loaded, rows_rejected, duplicate_of from raw_{system}.loaded_files",
        ):
            recorded[path] = (read, loaded, rejected, duplicate_of)
    # every file is accounted for, exactly once
    assert {p.relative_to(sample.landing).as_posix() for p in files} == set(recorded)
    for p in files:
        read, loaded, rejected, duplicate_of = recorded[p.relative_to(sample.landing).as_posix()]
        if duplicate_of:  # a byte-identical delivery: its rows are those of the original
            assert p.read_bytes() == (sample.landing / duplicate_of).read_bytes()
            assert (read, loaded, rejected) == (0, 0, 0)
            assert recorded[duplicate_of][3] is None
        else:
            assert read == _data_lines(p) == loaded + rejected, p
    for system in SYSTEMS:
        for entity in entities(system):
            if entity.disposition != "append":
                continue
            raw = dict(
                _rows(sample.warehouse, f"select _kith_file, count(*) from raw_{system}.{entity.name} group by 1")
            )
            for path, (_, loaded, _, _) in recorded.items():
                if path.startswith(entity.folder + "/"):
                    assert raw.get(path, 0) == loaded, path


def test_rerun_ingests_nothing_and_changes_nothing(sample: Sample) -> None:
    def counts() -> dict[str, int]:
        return {
            f"{s}.{e.name}": _rows(sample.warehouse, f"select count(*) from raw_{s}.{e.name}")[0][0]
            for s in SYSTEMS
            for e in entities(s)
        }

    before = counts()
    proc = run_kith(sample.env, "ingest")
    assert proc.returncode == 0, proc.stderr
    assert "0 rows read = 0 loaded + 0 rejected" in proc.stdout
    assert counts() == before


def test_dbt_build_is_green(built_sample: Sample) -> None:
    results = json.loads((built_sample.target / "run_results.json").read_text())["results"]
    assert results, "dbt build ran nothing"
    bad = [(r["unique_id"], r["status"], r.get("message")) for r in results if r["status"] in ("error", "fail")]
    assert bad == []


def test_demo_runs_end_to_end_and_summarises(tmp_path: Path) -> None:
    env = {
        "KITH_LANDING": str(tmp_path / "landing"),
        "KITH_GROUND_TRUTH": str(tmp_path / "truth"),
        "KITH_WAREHOUSE": str(tmp_path / "warehouse" / "kith.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    proc = run_kith(env, "demo", "--customers", "200", "--seed", "4")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for expected in ("generated 200 customers", "rows read =", "dbt build succeeded", "customers (", "warehouse:"):
        assert expected in proc.stdout, expected
    # the summary's customer count is the warehouse's
    (customers,) = _rows(
        tmp_path / "warehouse" / "kith.duckdb", "select count(distinct customer_id) from marts.dim_customer_identifiers"
    )[0]
    assert f"{customers:,} customers (" in proc.stdout


def test_source_freshness_is_configured_and_passes(built_sample: Sample) -> None:
    """Every source table has freshness on dlt's load time (the quarantine tables opt out with a
    reason); just after an ingest, all of them are fresh."""
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "source",
            "freshness",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(built_sample.target / "freshness"),
        ],
        env={**os.environ, **built_sample.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    sources = json.loads((built_sample.target / "freshness" / "sources.json").read_text())["results"]
    entity_tables = {f"source.kith.{s}.{e.name}" for s in SYSTEMS for e in entities(s)}
    checked = {r["unique_id"] for r in sources}
    assert entity_tables <= checked
    assert {r["status"] for r in sources} == {"pass"}
