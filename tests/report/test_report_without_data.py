"""`kith report` never needs everything: missing marts give a section saying what to build, dbt's
run results are counted as they are, rejection reasons never show the rejected value, and user
mistakes are one-line errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from kith.report import exclusion_kind, rejection_detail, rejection_kind, split_reasons, write_report
from tests.conftest import run_kith


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([^"]+)" data-value="([^"]*)"', html))


def _missing(html: str) -> dict[str, str]:
    return {
        section: re.sub(r"<[^>]+>", "", text)
        for section, text in re.findall(r'data-missing="([^"]+)">(.*?)</p>', html, re.DOTALL)
    }


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_an_empty_warehouse_gives_a_report_that_says_what_to_build(empty_warehouse: Path, tmp_path: Path) -> None:
    env = {
        "KITH_WAREHOUSE": str(empty_warehouse),
        "KITH_REPORTS": str(tmp_path / "reports"),
        "DBT_TARGET_PATH": str(tmp_path / "no-target"),
    }
    proc = run_kith(env, "report", timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "reports" / "kith_report.html"
    assert f"report: {out}" in proc.stdout
    missing = _missing(out.read_text(encoding="utf-8"))
    assert set(missing) == {
        "overview",
        "segments",
        "lifetime-value",
        "channels",
        "identity",
        "data-quality",
        "rejected-rows",
    }
    assert "kith build --select +dim_metrics_by_segment +fct_metrics_monthly" in missing["overview"]
    assert "kith build --select +dim_customer_scores" in missing["segments"]
    assert "No dbt run results" in missing["data-quality"]
    assert "kith ingest" in missing["rejected-rows"]
    assert "<svg" not in out.read_text(encoding="utf-8")


def test_a_partly_built_warehouse_reports_what_it_has(built_sample, tmp_path: Path) -> None:
    """A copy of the built sample without the metrics marts and with no scores: the overview names
    what to build, the segment section shows zero customers, and the rest is reported as usual."""
    warehouse = tmp_path / "partial.duckdb"
    shutil.copy2(built_sample.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("drop table marts.dim_metrics_by_segment")
    con.execute("delete from marts.dim_customer_scores")
    con.close()
    report = write_report(warehouse, tmp_path / "partial.html", run_results=tmp_path / "absent.json")
    html = (tmp_path / "partial.html").read_text(encoding="utf-8")
    missing = _missing(html)
    assert set(missing) == {"overview", "lifetime-value", "data-quality"}
    assert "marts.dim_metrics_by_segment" in missing["overview"]
    assert "marts.fct_metrics_monthly" not in missing["overview"]
    assert _figures(html)["scored_customers"] == "0"
    assert {p.plot_id for p in report.plots} >= {
        "plot-segment-sizes",
        "plot-identifiers-per-customer",
        "plot-rejected-rows",
    }


def test_dbt_results_are_counted_and_what_did_not_pass_is_listed(empty_warehouse: Path, tmp_path: Path) -> None:
    results = [
        {"unique_id": "test.kith.unique_a", "status": "pass", "failures": 0, "message": None},
        {"unique_id": "test.kith.not_null_b", "status": "pass", "failures": 0, "message": None},
        {"unique_id": "test.kith.relationships_c", "status": "warn", "failures": 3, "message": "Got 3 results"},
        {"unique_id": "test.kith.assert_d", "status": "fail", "failures": 7, "message": "Got 7 results"},
        {"unique_id": "unit_test.kith.fct_x.test_e", "status": "pass", "failures": 0, "message": None},
        {"unique_id": "unit_test.kith.fct_x.test_f", "status": "error", "failures": None, "message": "boom"},
        {"unique_id": "model.kith.fct_x", "status": "success", "failures": None, "message": "OK"},
    ]
    run_results = tmp_path / "run_results.json"
    run_results.write_text(
        json.dumps(
            {
                "metadata": {"generated_at": "2026-11-29T10:00:00.000000Z"},
                "args": {"which": "build", "invocation_command": "dbt build"},
                "results": results,
            }
        )
    )
    report = write_report(empty_warehouse, tmp_path / "r.html", run_results=run_results)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    figures = _figures(html)
    assert {k: figures[k] for k in figures if k.startswith("tests_")} == {
        "tests_run": "6",
        "tests_pass": "3",
        "tests_warn": "1",
        "tests_fail": "1",
        "tests_error": "1",
        "tests_skipped": "0",
    }
    section = html[html.index('id="data-quality"') : html.index('id="rejected-rows"')]
    for listed in ("relationships_c", "assert_d", "fct_x.test_f", "Got 7 results", "boom"):
        assert listed in section
    for passed in ("unique_a", "not_null_b", "test_e"):
        assert passed not in section
    assert "plot-test-results" in {p.plot_id for p in report.plots}


def test_rejection_reasons_keep_the_column_but_never_the_rejected_value() -> None:
    reason = "column updated_at: 31/12/2025 14:05 is not a valid timestamp; required column email is missing"
    parts = split_reasons(reason)
    assert parts == ["column updated_at: 31/12/2025 14:05 is not a valid timestamp", "required column email is missing"]
    assert [rejection_kind(p) for p in parts] == ["invalid timestamp", "missing required value"]
    assert [rejection_detail(p) for p in parts] == [
        "column updated_at: not a valid timestamp",
        "required column email is missing",
    ]
    assert rejection_detail("column email: a.baker@example.com is not a valid varchar") == (
        "column email: not a valid varchar"
    )
    assert rejection_kind("TOO MANY COLUMNS: Expected Number of Columns: 7 Found: 8") == "wrong number of columns"
    assert rejection_kind("malformed JSON: not a valid JSON object") == "malformed JSON"
    assert split_reasons("") == ["(no reason recorded)"]


def test_exclusion_reasons_are_grouped_without_their_counts() -> None:
    assert exclusion_kind("shared: links 3 crm_id (at most 1 per customer)") == "shared (links several crm_id)"
    assert (
        exclusion_kind("shared: links 2 crm_id (at most 1 per customer), 2 shop_customer_id (at most 1 per customer)")
        == "shared (links several crm_id and shop_customer_id)"
    )
    assert exclusion_kind("blocklisted: test address") == "blocklisted"


def test_a_missing_warehouse_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_kith({"KITH_WAREHOUSE": str(tmp_path / "nothing.duckdb")}, "report", timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "does not exist" in proc.stderr


def test_an_out_folder_is_a_one_line_error(empty_warehouse: Path, tmp_path: Path) -> None:
    proc = run_kith({"KITH_WAREHOUSE": str(empty_warehouse)}, "report", "--out", str(tmp_path), timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "is a folder" in proc.stderr
