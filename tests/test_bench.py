"""`kith bench`'s measuring and reporting logic, without a real build (a few seconds).

The child-process measurement is checked against children that really allocate; the ratios and
target checks against hand-computed figures; holding back the last days of a generated sample
against the generator's own emit windows.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest

from kith import bench


# -- functions the children run (imported by `python -m kith.bench --child tests.test_bench:...`) -------
def allocate(megabytes: int) -> dict:
    block = b"x" * (megabytes * bench.MIB)  # every byte written: resident, not just reserved
    return {"rows": len(block)}


def fail() -> dict:
    raise RuntimeError("this stage breaks on purpose")


# -- the child process and its peak memory ----------------------------------------------------------
def test_child_peak_rss_counts_what_the_child_allocates(tmp_path: Path) -> None:
    seen: list[float] = []
    big = bench.run_child(
        "tests.test_bench:allocate",
        {"megabytes": 200},
        tmp_path / "big.log",
        tick=lambda seconds, rss: seen.append(rss),
        poll_seconds=0.02,
    )
    small = bench.run_child("tests.test_bench:allocate", {"megabytes": 1}, tmp_path / "small.log")
    assert big.returncode == 0 and big.result == {"rows": 200 * bench.MIB}
    assert 200 < big.peak_rss_mb < 400, big.peak_rss_mb
    assert small.peak_rss_mb < 150, small.peak_rss_mb  # the interpreter alone: the 200 MB above is the child's
    assert 0 < big.seconds < big.wall_seconds  # the work is timed in the child, start-up is not
    assert big.cpu_seconds > 0
    assert seen and 0 < max(seen) <= big.peak_rss_mb  # progress saw the child's resident memory


def test_a_failing_child_reports_its_exit_code_and_traceback(tmp_path: Path) -> None:
    run = bench.run_child("tests.test_bench:fail", {}, tmp_path / "fail.log")
    assert run.returncode == 1 and run.result == {}
    assert "this stage breaks on purpose" in bench.log_tail(run.log)


# -- sizes, days and the held-back delivery ----------------------------------------------------------
def test_sizes_parse_like_duckdb_writes_them() -> None:
    assert bench.parse_size("5GB") == 5_000_000_000
    assert bench.parse_size("4 GiB") == 4 * 1024**3
    assert bench.parse_size("1.5gb") == 1_500_000_000
    for bad in ("", "lots", "5 XB", "-1GB"):
        with pytest.raises(ValueError):
            bench.parse_size(bad)


def test_delivery_day_of_each_landing_layout() -> None:
    assert bench.delivery_day("web/events/2026-10-30.jsonl") == "2026-10-30"
    assert bench.delivery_day("pos/transactions/2026-10-30/S001.csv") == "2026-10-30"
    with pytest.raises(ValueError, match="no delivery day"):
        bench.delivery_day("crm/contacts/latest.csv")


def test_cut_holds_back_the_share_closest_to_the_target() -> None:
    sizes = {"2026-10-01": 900, "2026-10-02": 60, "2026-10-03": 25, "2026-10-04": 15}  # total 1,000
    assert bench.choose_cut(sizes, 0.015) == "2026-10-04"  # 1.5% exactly
    assert bench.choose_cut(sizes, 0.04) == "2026-10-03"  # 4.0% exactly
    assert bench.choose_cut(sizes, 0.06) == "2026-10-03"  # 4.0% is nearer 6% than 10.0%
    assert bench.choose_cut(sizes, 0.09) == "2026-10-02"  # 10.0%
    assert bench.choose_cut(sizes, 0.5) == "2026-10-02"  # the first day is never held back
    with pytest.raises(ValueError):
        bench.choose_cut({"2026-10-01": 5}, 0.01)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_holding_back_days_equals_the_generators_emit_windows(tmp_path: Path) -> None:
    """The bench generates once and holds the last days back; the generator's --emit-until and
    --emit-from must write exactly the same two deliveries."""
    from kith.generate import generate

    period = {"customers": 20, "seed": 5, "start_date": date(2026, 10, 1), "end_date": date(2026, 10, 12)}
    generate(tmp_path / "all", tmp_path / "t1", **period)
    generate(tmp_path / "until", tmp_path / "t2", emit_until=date(2026, 10, 9), **period)
    generate(tmp_path / "from", tmp_path / "t3", emit_from=date(2026, 10, 10), **period)
    everything = _files(tmp_path / "all")

    files, size = bench.hold_back(tmp_path / "all", tmp_path / "held", "2026-10-10")
    first, held = _files(tmp_path / "all"), _files(tmp_path / "held")
    assert first == _files(tmp_path / "until")
    assert held == _files(tmp_path / "from")
    assert files == len(held) > 0 and size == sum(map(len, held.values()))

    assert bench.deliver(tmp_path / "held", tmp_path / "all") == files
    assert _files(tmp_path / "all") == everything and not (tmp_path / "held").exists()


# -- ratios, targets and the report ----------------------------------------------------------------
def _stage(name: str, seconds: float, rows: int | None = None, rss: float = 500.0, **detail) -> bench.Stage:
    return bench.Stage(name, seconds, rss, rows, True, dict(detail))


def _scale(customers: int, *, native: float, ingest: float, build: float, incremental: float, full: float) -> dict:
    """A scale as run_scale returns it; stage times chosen by the caller, rows fixed."""
    stages = [
        _stage("generate", customers / 1000, 100 * customers),
        _stage("DuckDB native read", native, 90 * customers),
        _stage("ingest", ingest, 90 * customers, rows_loaded=90 * customers),
        _stage("build, new warehouse", build, 90 * customers, rss=7000.0, dbt={}),
        _stage(
            "identity components",
            1.0,
            5 * customers,
            nodes=3 * customers,
            components=customers,
            scipy_seconds=0.2,
            default_seconds=0.3,
            wrong_labels=0,
        ),
        _stage("ingest, new delivery", 2.0, customers, rows_loaded=customers),
        _stage("build, incremental", incremental, 91 * customers),
        _stage("build, full refresh", full, 91 * customers),
        _stage("Python feature models", 3.0, 91 * customers, models={"fct_scoring_customer_features": 1.0}),
    ]
    by_name = {s.name: s for s in stages}
    ratios = bench.scale_ratios(
        by_name["DuckDB native read"],
        by_name["ingest"],
        by_name["identity components"],
        by_name["build, new warehouse"],
        by_name["build, incremental"],
        by_name["build, full refresh"],
    )
    ratios["peak_rss_mb"] = max(s.peak_rss_mb for s in stages)
    return {
        "customers": customers,
        "seed": 1,
        "started_at": "2026-11-29T00:00:00+00:00",
        "load_average_1min": [1.0, 1.5],
        "memory_limit": "5GB",
        "threads": 2,
        "landing_mb": 1.0,
        "warehouse_mb": 2.0,
        "generated_rows": 100 * customers,
        "held_back": {"from_day": "2026-10-28", "files": 10, "bytes_share": 0.011, "rows_loaded": customers},
        "new_rows_share": round(1 / 91, 4),
        "stages": [s.as_dict() for s in stages],
        "ratios": ratios,
    }


def test_ratios_are_computed_from_the_stages() -> None:
    r = _scale(10_000, native=10.0, ingest=40.0, build=100.0, incremental=12.0, full=80.0)["ratios"]
    # same rows (900,000) in both: the speed ratio is the inverse of the time ratio
    assert r["ingest_rows_per_second"] == 22_500 and r["native_rows_per_second"] == 90_000
    assert r["ingest_vs_native"] == 0.25
    assert r["identity_vs_scipy"] == 1.5
    assert r["incremental_vs_full_refresh"] == 0.15
    assert r["ingest_plus_build_seconds"] == 140.0


def _by_target(checks: list[dict]) -> dict[tuple[str, int | None], dict]:
    return {(c["target"], c["customers"]): c for c in checks}


def test_targets_are_marked_met_or_not_at_their_limits() -> None:
    at_limits = _scale(10_000, native=10.0, ingest=20.0, build=100.0, incremental=12.0, full=80.0)
    over = _scale(100_000, native=10.0, ingest=20.1, build=100.0, incremental=12.1, full=80.0)
    over["ratios"]["identity_vs_scipy"] = 2.01
    over["ratios"]["peak_rss_mb"] = bench.RSS_LIMIT_MB + 1
    checks = _by_target(bench.evaluate_targets([over, at_limits]))

    assert checks[("ingestion speed / DuckDB native read", 10_000)]["met"] is True  # exactly 50%
    assert checks[("ingestion speed / DuckDB native read", 100_000)]["met"] is False  # 49.8%
    assert checks[("identity components, default path / scipy alone", 10_000)]["met"] is True  # 1.5x
    assert checks[("identity components, default path / scipy alone", 100_000)]["met"] is False
    assert checks[("incremental build (new delivery) / full refresh", 10_000)]["met"] is True  # exactly 15%
    assert checks[("incremental build (new delivery) / full refresh", 100_000)]["met"] is False
    assert checks[("peak RSS of any stage, MB", 10_000)]["met"] is True
    assert checks[("peak RSS of any stage, MB", 100_000)]["met"] is False
    # no 1M scale: the 10-minute target is not measured, never "met"
    full_scale = checks[("ingest + full build seconds", bench.FULL_SCALE)]
    assert full_scale["met"] is None and full_scale["value"] is None


def test_a_failed_build_leaves_its_time_targets_unmeasured() -> None:
    scale = _scale(1_000_000, native=10.0, ingest=20.0, build=100.0, incremental=1.0, full=80.0)
    scale["ratios"]["builds_ok"] = False  # a failed build stops early: fast, and meaningless
    checks = _by_target(bench.evaluate_targets([scale]))
    for target in ("incremental build (new delivery) / full refresh", "ingest + full build seconds"):
        assert checks[(target, 1_000_000)]["met"] is None
        assert "a build failed" in checks[(target, 1_000_000)]["note"]
    assert checks[("ingestion speed / DuckDB native read", 1_000_000)]["met"] is True


def test_full_scale_time_and_growth_exponent() -> None:
    # 120 s at 10k, 1,200.5 s at 100k (x10.004: exponent 1.0002), 24,001 s at 1M (x20: exponent 1.301)
    scales = [
        _scale(10_000, native=1.0, ingest=20.0, build=100.0, incremental=1.0, full=10.0),
        _scale(100_000, native=1.0, ingest=200.5, build=1_000.0, incremental=1.0, full=10.0),
        _scale(1_000_000, native=1.0, ingest=4_001.0, build=20_000.0, incremental=1.0, full=10.0),
    ]
    growth = bench.growth_exponents([(s["customers"], s["ratios"]["ingest_plus_build_seconds"]) for s in scales])
    assert [g["exponent"] for g in growth] == [round(math.log10(1200.5 / 120), 3), round(math.log10(24001 / 1200.5), 3)]
    checks = _by_target(bench.evaluate_targets(scales))
    assert checks[("ingest + full build seconds", 1_000_000)] | {"note": ""} == {
        "target": "ingest + full build seconds",
        "customers": 1_000_000,
        "value": 24_001.0,
        "limit": "<= 600",
        "met": False,
        "note": "",
    }
    growth_check = checks[("cost growth exponent (ingest + full build)", None)]
    assert growth_check["value"] == 1.301 and growth_check["met"] is False
    linear = _by_target(bench.evaluate_targets(scales[:2]))[("cost growth exponent (ingest + full build)", None)]
    assert linear["met"] is True


def test_report_is_written_as_markdown_and_json(tmp_path: Path) -> None:
    scales = [
        _scale(10_000, native=10.0, ingest=40.0, build=100.0, incremental=12.0, full=80.0),
        _scale(100_000, native=100.0, ingest=300.0, build=900.0, incremental=200.0, full=800.0),
    ]
    report = bench.build_report(scales, "kith bench --customers 10000 100000")
    md, js = bench.write_report(report, tmp_path / "out")
    assert json.loads(js.read_text()) == report
    text = md.read_text()
    assert "`kith bench --customers 10000 100000`" in text
    # 40 s + 100 s for 10,000 customers: 14,000 ms per 1,000; 1,200 s for 100,000: 12,000
    assert "| 10,000 | 14,000 |" in text and "| 100,000 | 12,000 |" in text
    assert "| ingestion speed / DuckDB native read | 10,000 | 0.25 | >= 0.5 | **not met** |" in text
    assert "| incremental build (new delivery) / full refresh | 10,000 | 0.15 | <= 0.15 | **met** |" in text
    assert "| ingest + full build seconds | 1,000,000 |  | <= 600 | not measured | 1M scale not run |" in text
    assert "| ingest | 40.0 |" in text and "| 900,000 | 22,500 | 500 |" in text
    # --merge reads the scales back
    assert bench.previous_scales(tmp_path / "out") == report["scales"]


def test_merge_refuses_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text("{}")
    with pytest.raises(bench.UserError, match="not a kith bench report"):
        bench.previous_scales(tmp_path)
    assert bench.previous_scales(tmp_path / "nothing") == []


# -- the command line ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "'0' is not a positive whole number"),
        (["--customers", "ten"], "'ten' is not a positive whole number"),
        (["--memory-limit", "9GB"], "below the 8 GiB"),
        (["--memory-limit", "plenty"], "is not a size"),
        (["--new-share", "2"], "is not a share between 0 and 0.5"),
    ],
)
def test_bad_arguments_are_one_line_errors(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    from kith.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["bench", *args])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_report_inside_the_workdir_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from kith.cli import main

    status = main(["bench", "--workdir", str(tmp_path), "--out", str(tmp_path / "report")])
    err = capsys.readouterr().err
    assert status == 2
    assert "must not be inside --workdir" in err and len(err.strip().splitlines()) == 1


def test_too_little_disk_is_refused_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from kith.cli import main

    status = main(["bench", "--customers", "10000000000", "--workdir", str(tmp_path / "w"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and "GB free" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bench.md").exists()


def test_data_lines_count_rows_not_headers(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,x\n2,y\n")
    (tmp_path / "b.jsonl").write_text('{"id": 1}\n{"id": 2}\n{"id": 3}')  # no newline at the end
    (tmp_path / "c.csv").write_text("id,name\n")  # a day with nothing delivered
    assert [bench.data_lines(tmp_path / name) for name in ("a.csv", "b.jsonl", "c.csv")] == [2, 3, 0]


def test_identity_models_are_reported_incremental_against_full(tmp_path: Path) -> None:
    """run_results -> per-model identity seconds -> the report line with the ratio, hand-computed."""
    target = tmp_path / "target"
    target.mkdir()
    identity = "models/intermediate/identity/"
    manifest = {
        "nodes": {
            "model.kith.int_identity_nodes": {
                "resource_type": "model",
                "name": "int_identity_nodes",
                "original_file_path": identity + "int_identity_nodes.sql",
            },
            "model.kith.int_identity_links": {
                "resource_type": "model",
                "name": "int_identity_links",
                "original_file_path": identity + "int_identity_links.sql",
            },
            "model.kith.fct_orders": {
                "resource_type": "model",
                "name": "fct_orders",
                "original_file_path": "models/marts/orders/fct_orders.sql",
            },
        }
    }
    (target / "manifest.json").write_text(json.dumps(manifest))

    def summary(nodes_seconds: float, links_seconds: float) -> dict:
        results = [
            {"unique_id": "model.kith.int_identity_nodes", "status": "success", "execution_time": nodes_seconds},
            {"unique_id": "model.kith.int_identity_links", "status": "success", "execution_time": links_seconds},
            {"unique_id": "model.kith.fct_orders", "status": "success", "execution_time": 50.0},
        ]
        (target / "run_results.json").write_text(json.dumps({"results": results}))
        return bench.summarise_run_results(target)

    incremental, full = summary(1.0, 2.0), summary(6.0, 4.0)
    assert incremental["identity_models"] == {"int_identity_nodes": 1.0, "int_identity_links": 2.0}
    assert full["identity_models_seconds"] == 10.0
    scale = {
        "stages": [
            {"name": "build, incremental", "detail": {"dbt": incremental}},
            {"name": "build, full refresh", "detail": {"dbt": full}},
        ]
    }
    (line,) = bench._identity_incremental_lines(scale)
    # 3 s against 10 s; models by their full-refresh time, largest first
    assert "incremental build 3.0 s against the full refresh's 10.0 s: **30%**" in line
    assert line.endswith("int_identity_nodes 1.0/6.0, int_identity_links 2.0/4.0.")
    # a report without the per-model figures (older runs) has no such line
    assert (
        bench._identity_incremental_lines(
            {
                "stages": [
                    {"name": "build, incremental", "detail": {}},
                    {"name": "build, full refresh", "detail": {}},
                ]
            }
        )
        == []
    )
