"""``kith bench``: the end-to-end scale benchmark (generation, ingestion, identity, builds, memory).

For each scale (number of customers) it runs, each stage in a child process of its own so that the
stage's peak resident memory is the child's own (``os.wait4`` returns the child's ``ru_maxrss``):

1. generate every delivery of the sample, then hold back the last days (about ``new_share`` of the
   landing bytes) as a second delivery: the generator names every file after its delivery day and
   writes the same bytes whatever its emit window, so holding back the files of days >= D is what
   ``kith generate --emit-until D-1`` followed by ``--emit-from D`` writes (tests/test_bench.py
   checks it), without simulating every person twice;
2. DuckDB's own read of the first delivery's files into tables (the ingestion benchmark's baseline,
   ``benchmarks/ingest_benchmark.py``), then ``kith ingest`` of the same files;
3. ``kith build`` of the new warehouse (the full ``dbt build``);
4. connected components of the built warehouse's identity links: scipy alone on arrays in memory
   and Kith's default path (DuckDB -> Arrow -> scipy -> DuckDB), with the functions of
   ``benchmarks/identity_benchmark.py``;
5. ``kith ingest`` of the held-back delivery; a copy of the warehouse is put aside; ``kith build``
   (incremental) on the warehouse; then the copy takes the warehouse's place (same path, same dbt
   target, so both builds parse alike) and is rebuilt with ``kith build --full-refresh``;
6. the Python feature models (``models/marts/**.py``) rebuilt alone.

The report (``bench.md`` and ``bench.json``) gives per scale and stage the seconds, rows, rows/s and
peak RSS, and checks the targets of issue #9 against ratios measured in the same run (machines are
noisy: only ratios within a run, and times per customer, mean much). Every target is marked met or
not met as measured; a target that a run did not measure says so.

Heavy imports (dbt, DuckDB, dlt, the benchmarks) happen in the children only.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kith.config import PROJECT_DIR, UserError

MIB = 1024 * 1024
RSS_LIMIT_MB = 8 * 1024  # issue #9: the 1M run never exceeds 8 GiB resident memory
DEFAULT_MEMORY_LIMIT = "4GB"  # DuckDB's share; Python models, Arrow and dbt live outside it (2-3 GB at 1M)
DEFAULT_NEW_SHARE = 0.01
FULL_SCALE = 1_000_000
REPORT_NAME = "bench"

# issue #9's targets, checked against the report's figures (never by timed tests)
INGEST_VS_NATIVE_MIN = 0.5
IDENTITY_VS_SCIPY_MAX = 2.0
INCREMENTAL_VS_FULL_MAX = 0.15
FULL_SCALE_SECONDS_MAX = 600.0
GROWTH_EXPONENT_MAX = 1.1  # cost ~ customers^k between consecutive scales; 1.0 is linear

DAY_IN_PATH = re.compile(r"(?:^|/)(\d{4}-\d{2}-\d{2})(?=/|\.)")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)
UNITS = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
# disk needed per customer at the busiest moment, DuckDB's native read: 30 KB of landing files (at
# 100k customers) and the native read's tables (deleted right after); the landing files go once
# ingested, and the full refresh runs without a copy of the warehouse when there is no room for one
DISK_BYTES_PER_CUSTOMER = 45_000


# -- measuring a child process -------------------------------------------------------------------
@dataclass
class ChildRun:
    """One stage run in a child process: its own timing of the work, and the OS's account of it."""

    returncode: int
    seconds: float  # the work itself, timed in the child (imports of the stage's libraries included)
    wall_seconds: float  # from the parent: interpreter start-up included
    peak_rss_mb: float  # the child's ru_maxrss (VmHWM) as returned by wait4
    cpu_seconds: float = 0.0  # user + system CPU of the child (less sensitive than wall time to other jobs)
    result: dict = field(default_factory=dict)
    log: Path | None = None


def parse_size(text: str) -> int:
    """Bytes in a size as DuckDB writes it ('5GB', '4.5 GiB', '800MB'); ValueError when it is not one."""
    match = SIZE.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not a size (e.g. 5GB or 4GiB)")
    return int(float(match[1]) * UNITS[(match[2] or "B").upper()])


def run_child(
    target: str,
    kwargs: dict,
    log: Path,
    env: dict[str, str] | None = None,
    tick: Callable[[float, float], None] | None = None,
    poll_seconds: float = 0.25,
) -> ChildRun:
    """Run ``module:function(**kwargs)`` in a child Python process and measure it.

    The function returns a JSON-able dict. The child's stdout and stderr go to ``log``. ``tick``
    is called about every ``poll_seconds`` with the seconds elapsed and the child's current RSS in
    MB (from /proc/<pid>/status), to show progress.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    result_file = log.with_suffix(".result.json")
    result_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "kith.bench", "--child", target, json.dumps(kwargs), str(result_file)]
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            command, cwd=PROJECT_DIR, env={**os.environ, **(env or {})}, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    break
                if tick is not None:
                    tick(time.perf_counter() - started, current_rss_mb(proc.pid))
                time.sleep(poll_seconds)
        except BaseException:  # interrupted: do not leave the stage running
            proc.kill()
            proc.wait()
            raise
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen's view consistent
    wall = time.perf_counter() - started
    payload = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    result_file.unlink(missing_ok=True)
    return ChildRun(
        returncode=proc.returncode,
        seconds=float(payload.get("seconds", wall)),
        wall_seconds=wall,
        # the child's own VmHWM; ru_maxrss (Linux: kilobytes) when the child died before telling it
        peak_rss_mb=float(payload.get("peak_rss_mb") or usage.ru_maxrss / 1024),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        result=payload.get("result", {}),
        log=log,
    )


def current_rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def log_tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _child_main(argv: list[str]) -> int:
    """``python -m kith.bench --child module:function KWARGS_JSON RESULT_FILE``."""
    import importlib

    target, kwargs, result_file = argv[0], json.loads(argv[1]), Path(argv[2])
    module_name, function_name = target.split(":")
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    function = getattr(importlib.import_module(module_name), function_name)
    started = time.perf_counter()
    try:
        result = function(**kwargs)
    except BaseException:
        traceback.print_exc()
        return 1
    seconds = time.perf_counter() - started
    payload = {"seconds": seconds, "result": result, "peak_rss_mb": _own_peak_rss_mb()}
    result_file.write_text(json.dumps(payload), encoding="utf-8")
    return 0


def _own_peak_rss_mb() -> float | None:
    """This process's peak resident memory since its exec (VmHWM), None when /proc cannot tell.

    ``ru_maxrss`` of a child is not enough on its own: it also counts the moment between fork and
    exec, when the child still maps its parent, so a small stage started by a big parent (a test
    worker) reported the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# -- the stages (run in the children) -----------------------------------------------------------
def _benchmark_module(name: str):
    """A script of benchmarks/ as a module (the folder is a namespace package at the project root)."""
    import importlib

    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    return importlib.import_module(f"benchmarks.{name}")


def stage_generate(landing: str, truth: str, customers: int, seed: int) -> dict:
    from kith.generate import generate

    summary = generate(Path(landing), Path(truth), customers=customers, seed=seed)
    return {
        "rows": sum(summary.rows_per_entity.values()),
        "files": sum(summary.files_per_entity.values()),
        "malformed_rows": summary.malformed_rows,
    }


def stage_native_read(landing: str, database: str) -> dict:
    """DuckDB's own read_json/read_csv of every landing file into tables: the ingestion benchmark's
    baseline, run as that benchmark runs it (its code, unchanged)."""
    code = _benchmark_module("ingest_benchmark").STAGE_CODE["duckdb_native"].format(landing=landing, warehouse=database)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {"__name__": "kith_bench_native_read"})
    return {"rows": int(printed.getvalue().split()[-1])}


def stage_ingest(landing: str, warehouse: str) -> dict:
    from pipelines.ingest import ingest

    summary = ingest(Path(landing), Path(warehouse))
    return {
        "rows": summary.rows_read,
        "rows_loaded": summary.rows_loaded,
        "rows_rejected": summary.rows_rejected,
        "files_new": sum(e.files_new for e in summary.entities),
    }


def stage_build(args: list[str]) -> dict:
    """``kith build --no-publish <args>`` as a user runs it (paths and limits from the environment)."""
    from kith.cli import main

    return {"returncode": main(["build", "--no-publish", *args])}


def stage_identity(warehouse: str, scratch: str, repeat: int = 2) -> dict:
    """Connected components of the built warehouse's identity links: scipy alone (arrays in memory,
    best of 3) and the default path (DuckDB -> Arrow -> scipy -> DuckDB, best of ``repeat``), with
    the identity benchmark's own functions, on a scratch copy of the links."""
    import duckdb

    ib = _benchmark_module("identity_benchmark")
    ib.remove_warehouse(Path(scratch))
    with duckdb.connect(scratch) as con:
        con.execute("attach ? as wh (read_only)", [warehouse])
        con.execute("create table main.edges as select node_id_a, node_id_b from wh.intermediate.int_identity_links")
        con.execute("create table main.nodes as select node_id from wh.intermediate.int_identity_nodes")
        con.execute("detach wh")
        links = con.sql("select node_id_a, node_id_b from main.edges").fetchnumpy()
        # node ids are unique, and dense only after a full build (incremental builds leave gaps)
        (n_nodes,) = con.execute("select coalesce(max(node_id) + 1, 0) from main.nodes").fetchone()
    graph = ib.Graph(links["node_id_a"], links["node_id_b"], n_nodes, {})
    scipy_seconds, expected = ib.scipy_in_memory(graph)
    default_seconds, labels = min((ib.duckdb_scipy(Path(scratch)) for _ in range(repeat)), key=lambda run: run[0])
    wrong = ib.wrong_labels(expected, labels)
    ib.remove_warehouse(Path(scratch))
    return {
        "rows": len(graph.src),
        "nodes": n_nodes,
        "components": len(set(expected.tolist())),
        "scipy_seconds": scipy_seconds,
        "default_seconds": default_seconds,
        "wrong_labels": wrong,
    }


# -- holding back a delivery -------------------------------------------------------------------
def delivery_day(relative: str) -> str:
    """The delivery day (YYYY-MM-DD) in a landing file's path (``<system>/<entity>/<day>.<ext>`` or
    ``.../<day>/<store>.csv``); ValueError for a path without one."""
    match = DAY_IN_PATH.search(relative)
    if match is None:
        raise ValueError(f"landing file {relative} has no delivery day in its path")
    return match[1]


def data_lines(path: Path) -> int:
    """Rows in a landing file: its lines, less the header of a CSV file."""
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 23):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"  # a last line without its newline
    return max(0, lines - 1) if path.suffix == ".csv" else lines


def rows_per_day(landing: Path) -> dict[str, tuple[int, int]]:
    """(rows, bytes) of the landing files per delivery day."""
    days: dict[str, tuple[int, int]] = {}
    for path in landing.rglob("*"):
        if path.is_file():
            day = delivery_day(path.relative_to(landing).as_posix())
            rows, size = days.get(day, (0, 0))
            days[day] = (rows + data_lines(path), size + path.stat().st_size)
    return days


def choose_cut(sizes: dict[str, int], share: float) -> str:
    """The first held-back day: the days from it on hold the share of rows closest to ``share``
    (at least the last day is held back, and at least the first day is not)."""
    if len(sizes) < 2:
        raise ValueError("need deliveries on at least two days to hold the last ones back")
    if not 0 < share < 1:
        raise ValueError(f"share of new data must be between 0 and 1, got {share}")
    total = sum(sizes.values())
    days = sorted(sizes)
    best, best_gap, held = days[-1], math.inf, 0
    for day in reversed(days[1:]):
        held += sizes[day]
        gap = abs(held / total - share)
        if gap < best_gap:
            best, best_gap = day, gap
        if held / total > share:
            break
    return best


def hold_back(landing: Path, held_back: Path, cut: str) -> tuple[int, int]:
    """Move the files delivered on or after ``cut`` from ``landing`` to ``held_back`` (same relative
    paths); returns (files, bytes) moved."""
    files = size = 0
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        relative = path.relative_to(landing)
        if delivery_day(relative.as_posix()) >= cut:
            target = held_back / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            size += path.stat().st_size
            path.rename(target)
            files += 1
    return files, size


def deliver(held_back: Path, landing: Path) -> int:
    """Move the held-back files into the landing folder; returns the files moved."""
    moved = 0
    for path in sorted(p for p in held_back.rglob("*") if p.is_file()):
        target = landing / path.relative_to(held_back)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        moved += 1
    shutil.rmtree(held_back)
    return moved


# -- dbt's account of a build ------------------------------------------------------------------
def summarise_run_results(target: Path) -> dict:
    """Status counts, failures, the slowest nodes and the Python models' times of the last dbt
    invocation (``run_results.json`` and ``manifest.json`` in dbt's target folder)."""
    try:
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
        nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    except (OSError, ValueError, KeyError):
        return {}
    statuses: dict[str, int] = {}
    failures, timings, python_models, identity_models = [], [], {}, {}
    identity_seconds = 0.0
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        if r["status"] in ("error", "fail"):
            failures.append(f"{r['unique_id']}: {(r.get('message') or '').splitlines()[:1]}")
        node = nodes.get(r["unique_id"], {})
        seconds = float(r.get("execution_time") or 0.0)
        timings.append((seconds, r["unique_id"]))
        path = node.get("original_file_path", "")
        if node.get("resource_type") == "model" and node.get("language") == "python":
            python_models[node["name"]] = round(seconds, 2)
        if path.startswith("models/intermediate/identity/") and node.get("resource_type") == "model":
            identity_seconds += seconds
            identity_models[node["name"]] = round(seconds, 2)
    return {
        "nodes": len(results),
        "statuses": statuses,
        "failures": failures[:20],
        "slowest": [{"node": uid, "seconds": round(s, 2)} for s, uid in sorted(timings, reverse=True)[:8]],
        "python_models_seconds": python_models,
        "identity_models_seconds": round(identity_seconds, 2),
        "identity_models": identity_models,
    }


def _identity_incremental_lines(scale: dict) -> list[str]:
    """The identity models' seconds in the incremental build against the full refresh, per model."""
    incremental = _stage(scale, "build, incremental")["detail"].get("dbt", {})
    full = _stage(scale, "build, full refresh")["detail"].get("dbt", {})
    inc_models, full_models = incremental.get("identity_models", {}), full.get("identity_models", {})
    if not inc_models or not full_models:
        return []
    inc_total, full_total = incremental["identity_models_seconds"], full["identity_models_seconds"]
    ratio = f"**{inc_total / full_total:.0%}**" if full_total else "n/a"
    per_model = ", ".join(
        f"{name} {inc_models[name]:.1f}/{full_models.get(name, 0):.1f}"
        for name in sorted(inc_models, key=lambda n: -full_models.get(n, 0))
    )
    return [
        f"- Identity models (models/intermediate/identity), incremental build {inc_total:,.1f} s against the full"
        f" refresh's {full_total:,.1f} s: {ratio}. Per model, incremental/full seconds: {per_model}."
    ]


def python_feature_models(target: Path) -> list[str]:
    """The Python models under models/marts/ (scores and features), from dbt's manifest."""
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    return sorted(
        n["name"]
        for n in nodes.values()
        if n.get("resource_type") == "model"
        and n.get("language") == "python"
        and n.get("original_file_path", "").startswith("models/marts/")
    )


# -- one scale -----------------------------------------------------------------------------------
@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mb: float
    rows: int | None = None
    ok: bool = True
    detail: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds > 0 else None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 2)
        d["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        rate = self.rows_per_second
        d["rows_per_second"] = round(rate) if rate is not None else None
        return d


@dataclass
class ScaleSettings:
    customers: int
    seed: int
    workdir: Path
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = 2
    new_share: float = DEFAULT_NEW_SHARE
    keep: bool = False


class StageError(UserError):
    pass


def run_scale(settings: ScaleSettings, show: Callable[[str], None], tick_for: Callable[[str], Callable]) -> dict:
    """Every stage at one scale; returns the scale's part of the report."""
    n = settings.customers
    work = settings.workdir / f"customers-{n}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    landing, truth, held = work / "landing", work / "truth", work / "held_back"
    warehouse, target = work / "warehouse" / "kith.duckdb", work / "target"
    env = {
        "KITH_LANDING": str(landing),
        "KITH_GROUND_TRUTH": str(truth),
        "KITH_WAREHOUSE": str(warehouse),
        "KITH_REPORTS": str(work / "reports"),
        "KITH_MEMORY_LIMIT": settings.memory_limit,
        "KITH_THREADS": str(settings.threads),
        "KITH_TEMP_DIR": str(work / "tmp"),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    (work / "tmp").mkdir()
    stages: list[Stage] = []
    partial = settings.workdir / f"customers-{n}.stages-so-far.json"
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]

    def stage(name: str, target_function: str, kwargs: dict, required: bool = True) -> Stage:
        show(f"[{n:,}] {name} ...")
        run = run_child(
            f"kith.bench:{target_function}",
            kwargs,
            work / "logs" / f"{len(stages) + 1:02d}-{target_function}.log",
            env,
            tick_for(f"[{n:,}] {name}"),
        )
        ok = run.returncode == 0 and run.result.get("returncode", 0) == 0
        if not ok and required:
            last = log_tail(run.log, 1).strip()
            raise StageError(
                f"{name} at {n:,} customers failed (exit {run.returncode}: {last[:200]}); log {run.log}; "
                f"stages so far: {partial}"
            )
        result = dict(run.result)
        s = Stage(name, run.seconds, run.peak_rss_mb, result.pop("rows", None), ok, result)
        s.detail["wall_seconds"] = round(run.wall_seconds, 2)
        s.detail["cpu_seconds"] = round(run.cpu_seconds, 1)
        s.detail["load_average_1min"] = round(os.getloadavg()[0], 2)
        s.detail["log"] = str(run.log)
        stages.append(s)
        # how far a long run got, should a later stage fail or the run be stopped
        partial.write_text(json.dumps([st.as_dict() for st in stages], indent=2) + "\n", encoding="utf-8")
        rows = f", {s.rows:,} rows" if s.rows else ""
        show(f"[{n:,}] {name}: {s.seconds:,.1f} s{rows}, peak {s.peak_rss_mb:,.0f} MB{'' if ok else ', FAILED'}")
        return s

    gen = stage(
        "generate",
        "stage_generate",
        {"landing": str(landing), "truth": str(truth), "customers": n, "seed": settings.seed},
    )
    if not settings.keep:
        shutil.rmtree(truth)  # the ground truth is not used here: its disk space is (3.6 GB at 1M)
    per_day = rows_per_day(landing)
    cut = choose_cut({day: rows for day, (rows, _) in per_day.items()}, settings.new_share)
    held_files, held_bytes = hold_back(landing, held, cut)
    total_bytes = sum(size for _, size in per_day.values())
    held_rows = sum(rows for day, (rows, _) in per_day.items() if day >= cut)
    total_rows = sum(rows for rows, _ in per_day.values())
    native = stage(
        "DuckDB native read", "stage_native_read", {"landing": str(landing), "database": str(work / "native.duckdb")}
    )
    for leftover in work.glob("native.duckdb*"):
        leftover.unlink()
    ingest = stage("ingest", "stage_ingest", {"landing": str(landing), "warehouse": str(warehouse)})
    if not settings.keep:  # loaded: only the held-back delivery is still to come (30 GB at 1M)
        shutil.rmtree(landing)
        landing.mkdir()
    build = stage("build, new warehouse", "stage_build", {"args": []}, required=False)
    build.detail["dbt"] = summarise_run_results(target)
    build.rows = ingest.detail["rows_loaded"]
    identity = stage(
        "identity components", "stage_identity", {"warehouse": str(warehouse), "scratch": str(work / "identity.duckdb")}
    )

    deliver(held, landing)
    late = stage("ingest, new delivery", "stage_ingest", {"landing": str(landing), "warehouse": str(warehouse)})
    put_aside = warehouse.with_name("before_incremental.duckdb")
    # the full refresh runs on a copy of the warehouse as it was before the incremental build, when
    # there is room for one (and for the incremental build's growth); else on the warehouse after it
    on_copy = shutil.disk_usage(warehouse.parent).free > 2 * warehouse.stat().st_size + 2e9
    if on_copy:
        shutil.copyfile(warehouse, put_aside)
    rows_now = ingest.detail["rows_loaded"] + late.detail["rows_loaded"]
    incremental = stage("build, incremental", "stage_build", {"args": []}, required=False)
    incremental.detail["dbt"] = summarise_run_results(target)
    incremental.rows = rows_now
    if on_copy:
        warehouse.unlink()
        for wal in warehouse.parent.glob("*.wal"):
            wal.unlink()
        put_aside.rename(warehouse)
    full = stage("build, full refresh", "stage_build", {"args": ["--full-refresh"]}, required=False)
    full.detail["dbt"] = summarise_run_results(target)
    full.detail["on"] = "a copy of the warehouse before the incremental build" if on_copy else "the same warehouse"
    full.rows = rows_now
    models = python_feature_models(target)
    python = stage(
        "Python feature models",
        "stage_build",
        {"args": ["--select", *models, "--exclude-resource-type", "test", "unit_test"]},
        required=False,
    )
    python.detail["models"] = summarise_run_results(target).get("python_models_seconds", {})
    python.rows = rows_now

    sizes_after = {
        "landing_mb": round(total_bytes / 1e6, 1),
        "warehouse_mb": round(warehouse.stat().st_size / 1e6, 1),
    }
    if not settings.keep:
        shutil.rmtree(work)
    partial.unlink(missing_ok=True)
    scale = {
        "customers": n,
        "seed": settings.seed,
        "started_at": started_at,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "memory_limit": settings.memory_limit,
        "threads": settings.threads,
        **sizes_after,
        "generated_rows": gen.rows,
        "held_back": {
            "from_day": cut,
            "files": held_files,
            "bytes_share": round(held_bytes / total_bytes, 4),
            "lines_share": round(held_rows / total_rows, 4),
            "rows_loaded": late.detail["rows_loaded"],
        },
        "new_rows_share": round(late.detail["rows_loaded"] / rows_now, 4) if rows_now else None,
        "stages": [s.as_dict() for s in stages],
    }
    scale["ratios"] = scale_ratios(native, ingest, identity, build, incremental, full)
    scale["ratios"]["peak_rss_mb"] = round(max(s.peak_rss_mb for s in stages), 1)
    return scale


def scale_ratios(native: Stage, ingest: Stage, identity: Stage, build: Stage, incremental: Stage, full: Stage) -> dict:
    """The figures the targets are checked against, for one scale."""
    native_rate, ingest_rate = native.rows_per_second, ingest.rows_per_second
    customers_seconds = ingest.seconds + build.seconds
    return {
        "ingest_rows_per_second": round(ingest_rate) if ingest_rate else None,
        "native_rows_per_second": round(native_rate) if native_rate else None,
        "ingest_vs_native": round(ingest_rate / native_rate, 3) if ingest_rate and native_rate else None,
        # the same ratios on CPU seconds: a second view, less sensitive than wall time to other jobs
        "ingest_vs_native_cpu": round((ingest.rows / _cpu(ingest)) / (native.rows / _cpu(native)), 3)
        if _cpu(ingest) and _cpu(native) and ingest.rows and native.rows
        else None,
        "identity_default_seconds": round(identity.detail["default_seconds"], 3),
        "identity_scipy_seconds": round(identity.detail["scipy_seconds"], 3),
        "identity_vs_scipy": round(identity.detail["default_seconds"] / identity.detail["scipy_seconds"], 2)
        if identity.detail["scipy_seconds"] > 0
        else None,
        "identity_wrong_labels": identity.detail["wrong_labels"],
        "incremental_seconds": round(incremental.seconds, 1),
        "full_refresh_seconds": round(full.seconds, 1),
        "incremental_vs_full_refresh": round(incremental.seconds / full.seconds, 3) if full.seconds > 0 else None,
        "incremental_vs_full_refresh_cpu": round(_cpu(incremental) / _cpu(full), 3)
        if _cpu(incremental) and _cpu(full)
        else None,
        "builds_ok": build.ok and incremental.ok and full.ok,
        "ingest_plus_build_seconds": round(customers_seconds, 1),
    }


def _cpu(stage: Stage) -> float | None:
    return stage.detail.get("cpu_seconds") or None


# -- targets --------------------------------------------------------------------------------------
def growth_exponents(points: list[tuple[int, float]]) -> list[dict]:
    """k in cost ~ customers^k between consecutive scales (1.0 is linear, below it better)."""
    points = sorted(points)
    out = []
    for (n1, t1), (n2, t2) in itertools.pairwise(points):
        if n2 > n1 and t1 > 0 and t2 > 0:
            out.append({"from": n1, "to": n2, "exponent": round(math.log(t2 / t1) / math.log(n2 / n1), 3)})
    return out


def evaluate_targets(scales: list[dict]) -> list[dict]:
    """Each target of issue #9 checked against the report's figures: met, not met, or not measured."""
    checks: list[dict] = []

    failed = "a build failed: its time is not comparable"

    def check(
        target: str, scale: int | None, value, limit: float, at_most: bool, note: str = "", valid: bool = True
    ) -> None:
        met = None if value is None or not valid else (value <= limit if at_most else value >= limit)
        note = note if valid else "; ".join(filter(None, [failed, note]))
        checks.append(
            {
                "target": target,
                "customers": scale,
                "value": value,
                "limit": f"{'<=' if at_most else '>='} {limit:g}",
                "met": met,
                "note": note,
            }
        )

    for s in sorted(scales, key=lambda s: s["customers"]):
        r, n = s["ratios"], s["customers"]
        check("ingestion speed / DuckDB native read", n, r.get("ingest_vs_native"), INGEST_VS_NATIVE_MIN, False)
        check(
            "identity components, default path / scipy alone",
            n,
            r.get("identity_vs_scipy"),
            IDENTITY_VS_SCIPY_MAX,
            True,
        )
        check(
            "incremental build (new delivery) / full refresh",
            n,
            r.get("incremental_vs_full_refresh"),
            INCREMENTAL_VS_FULL_MAX,
            True,
            f"new rows {s['new_rows_share']:.1%} of all" if s.get("new_rows_share") is not None else "",
            valid=r.get("builds_ok", True),
        )
        check("peak RSS of any stage, MB", n, r.get("peak_rss_mb"), RSS_LIMIT_MB, True)
    full = [s for s in scales if s["customers"] >= FULL_SCALE]
    if full:
        s = max(full, key=lambda s: s["customers"])
        check(
            "ingest + full build seconds",
            s["customers"],
            s["ratios"]["ingest_plus_build_seconds"],
            FULL_SCALE_SECONDS_MAX,
            True,
            valid=s["ratios"].get("builds_ok", True),
        )
    else:
        check("ingest + full build seconds", FULL_SCALE, None, FULL_SCALE_SECONDS_MAX, True, "1M scale not run")
    growth = growth_exponents([(s["customers"], s["ratios"]["ingest_plus_build_seconds"]) for s in scales])
    if growth:
        worst = max(growth, key=lambda g: g["exponent"])
        check(
            "cost growth exponent (ingest + full build)",
            None,
            worst["exponent"],
            GROWTH_EXPONENT_MAX,
            True,
            "; ".join(f"{g['from']:,} -> {g['to']:,}: {g['exponent']}" for g in growth),
            valid=all(s["ratios"].get("builds_ok", True) for s in scales),
        )
    else:
        check("cost growth exponent (ingest + full build)", None, None, GROWTH_EXPONENT_MAX, True, "needs two scales")
    return checks


# -- the report ---------------------------------------------------------------------------------
def build_report(scales: list[dict], command: str) -> dict:
    scales = sorted(scales, key=lambda s: s["customers"])
    return {
        "command": command,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scales": scales,
        "time_per_customer": [
            {
                "customers": s["customers"],
                "ingest_plus_build_ms_per_1000": round(
                    s["ratios"]["ingest_plus_build_seconds"] / s["customers"] * 1e6, 1
                ),
                "generate_ms_per_1000": round(_stage(s, "generate")["seconds"] / s["customers"] * 1e6, 1),
            }
            for s in scales
        ],
        "targets": evaluate_targets(scales),
    }


def _stage(scale: dict, name: str) -> dict:
    return next(st for st in scale["stages"] if st["name"] == name)


def _cpu_note(ratio: float | None) -> str:
    return "" if ratio is None else f" ({ratio:.0%} on CPU seconds)"


def _mark(met: bool | None) -> str:
    return "not measured" if met is None else ("**met**" if met else "**not met**")


def _num(value, digits: int = 0) -> str:
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def markdown(report: dict) -> str:
    lines = [
        "# End-to-end benchmark (`kith bench`)",
        "",
        f"Command: `{report['command']}` ({report['machine']}). Each stage runs in a child process of its own;"
        " peak RSS is that process's maximum resident set (VmHWM, from wait4). Machines are shared and noisy:"
        " compare ratios within a scale. For the builds, rows are the raw rows in the warehouse.",
        "",
        "## Targets (issue #9)",
        "",
        "| target | customers | value | limit | result | note |",
        "|---|---:|---:|---|---|---|",
    ]
    for t in report["targets"]:
        customers = f"{t['customers']:,}" if t["customers"] else "all"
        value = "" if t["value"] is None else f"{t['value']:,}"
        lines.append(f"| {t['target']} | {customers} | {value} | {t['limit']} | {_mark(t['met'])} | {t['note']} |")
    lines += [
        "",
        "## Time per customer",
        "",
        "| customers | ingest + full build, ms per 1,000 customers | generation, ms per 1,000 customers |",
        "|---:|---:|---:|",
    ]
    for t in report["time_per_customer"]:
        lines.append(
            f"| {t['customers']:,} | {t['ingest_plus_build_ms_per_1000']:,.0f} | {t['generate_ms_per_1000']:,.0f} |"
        )
    for s in report["scales"]:
        r, held = s["ratios"], s["held_back"]
        lines += [
            "",
            f"## {s['customers']:,} customers",
            "",
            f"Started {s['started_at']} (1-minute load average {s['load_average_1min'][0]} at start,"
            f" {s['load_average_1min'][1]} at end); DuckDB memory_limit {s['memory_limit']}, {s['threads']} threads;"
            f" landing {s['landing_mb']:,} MB, warehouse {s['warehouse_mb']:,} MB. {s['generated_rows']:,} rows"
            f" generated; the deliveries of {held['from_day']} and later ({held['files']:,} files,"
            f" {held.get('lines_share', 0):.1%} of the landing rows, {held['bytes_share']:.1%} of the bytes) were"
            f" held back and delivered after the first build: {held['rows_loaded']:,} rows loaded,"
            f" **{s['new_rows_share']:.2%}** of all rows.",
            "",
            "| stage | seconds | CPU seconds | rows | rows/s | peak RSS MB | load at end | status |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for st in s["stages"]:
            lines.append(
                f"| {st['name']} | {st['seconds']:,.1f} | {_num(st['detail'].get('cpu_seconds'), 1)} "
                f"| {_num(st['rows'])} | {_num(st['rows_per_second'])} | {st['peak_rss_mb']:,.0f} "
                f"| {_num(st['detail'].get('load_average_1min'), 1)} | {'ok' if st['ok'] else 'FAILED'} |"
            )
        identity = _stage(s, "identity components")["detail"]
        refreshed = _stage(s, "build, full refresh")["detail"].get(
            "on", "a copy of the warehouse before the incremental build"
        )
        identity_models = _stage(s, "build, new warehouse")["detail"]["dbt"].get("identity_models_seconds", 0)
        lines += [
            "",
            f"- Ingestion {_num(r['ingest_rows_per_second'])} rows/s against DuckDB's native read"
            f" {_num(r['native_rows_per_second'])} rows/s: **{r['ingest_vs_native']:.0%}**"
            f"{_cpu_note(r.get('ingest_vs_native_cpu'))}.",
            f"- Identity components on the warehouse's {_stage(s, 'identity components')['rows']:,} links"
            f" ({identity['nodes']:,} identifiers, {identity['components']:,} components): default path"
            f" {r['identity_default_seconds']:.3f} s, scipy alone {r['identity_scipy_seconds']:.3f} s,"
            f" **{r['identity_vs_scipy']:.2f}x**; wrong labels {r['identity_wrong_labels']:,}. All identity"
            f" models in the first build: {identity_models:,.1f} s.",
            f"- Incremental build after the new delivery {r['incremental_seconds']:,.1f} s, full refresh"
            f" ({refreshed}, same data) {r['full_refresh_seconds']:,.1f} s: **{r['incremental_vs_full_refresh']:.0%}**"
            f"{_cpu_note(r.get('incremental_vs_full_refresh_cpu'))}.",
        ]
        lines += _identity_incremental_lines(s)
        python = _stage(s, "Python feature models")["detail"].get("models", {})
        if python:
            lines.append(
                "- Python feature models rebuilt alone: "
                + ", ".join(f"{m} {t:,.1f} s" for m, t in python.items())
                + "."
            )
        for name in ("build, new warehouse", "build, incremental", "build, full refresh"):
            dbt = _stage(s, name)["detail"].get("dbt", {})
            if dbt:
                statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(dbt["statuses"].items()))
                slowest = ", ".join(f"{x['node'].split('.')[-1]} {x['seconds']:,.1f} s" for x in dbt["slowest"][:5])
                lines.append(f"- {name}: {dbt['nodes']:,} nodes ({statuses}); slowest: {slowest}.")
                for failure in dbt["failures"][:5]:
                    lines.append(f"  - {failure}")
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{REPORT_NAME}.json", out / f"{REPORT_NAME}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return md_path, json_path


def previous_scales(out: Path) -> list[dict]:
    """The scales of the report already in ``out`` (for --merge); none when there is none."""
    path = out / f"{REPORT_NAME}.json"
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text(encoding="utf-8"))["scales"]
    except (ValueError, KeyError) as exc:
        raise UserError(f"{path} is not a kith bench report ({exc}); move it away or drop --merge") from None


def check_disk(workdir: Path, customers: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(workdir).free
    needed = customers * DISK_BYTES_PER_CUSTOMER
    if free < needed:
        raise UserError(
            f"{customers:,} customers need about {needed / 1e9:,.1f} GB in {workdir}, only {free / 1e9:,.1f} GB free"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    print("usage: python -m kith.bench --child module:function KWARGS_JSON RESULT_FILE (use `kith bench`)")
    sys.exit(2)
