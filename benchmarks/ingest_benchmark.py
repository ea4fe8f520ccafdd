"""Ingestion benchmark: Kith's dlt ingestion next to DuckDB's own readers on the same files.

    python benchmarks/ingest_benchmark.py --customers 100000 [--workdir data/bench] [--reuse] [--rounds 2]

Measured in one run on this machine (machines are noisy, so only ratios within a run are
meaningful): generation; DuckDB's native read of every landing file into a table
(`read_json` / `read_csv`, the speed limit for any loader); `kith ingest` of the same files
(parse, validate, quarantine, dlt load). The two are interleaved (native, kith, native, kith ...,
each into a fresh warehouse) so that a burst of load from other jobs on the machine hits both
alike; the ratio is taken between the best round of each, and the medians are reported too. Every
stage runs in its own process, which gives its peak resident memory. Writes
benchmarks/results/ingest-<customers>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAGE_CODE = {
    "generate": """
from datetime import date
from pathlib import Path
from kith.generate import generate
generate(Path({landing!r}), Path({truth!r}), customers={customers}, seed=7)
""",
    "duckdb_native": """
import os, time
import duckdb
from pipelines.ingest import raise_open_files_limit
raise_open_files_limit()
from pathlib import Path
from pipelines.sources import SYSTEMS, entities
from pipelines.landing import discover
con = duckdb.connect({warehouse!r})
con.execute("set TimeZone = 'UTC'")
rows = 0
for system in (os.environ.get("KITH_BENCH_SYSTEMS") or ",".join(SYSTEMS)).split(","):
    for e in entities(system):
        started = time.perf_counter()
        files = [str(p) for p in discover(Path({landing!r}), e)]
        if not files:
            continue
        reader = (
            f"read_json(?, format = 'newline_delimited', ignore_errors = true)" if e.format == "jsonl"
            else f"read_csv(?, header = true, ignore_errors = true)"
        )
        con.execute(f"create table {{system}}__{{e.name}} as select * from {{reader}}", [files])
        rows += con.execute(f"select count(*) from {{system}}__{{e.name}}").fetchone()[0]
        print("__ENTITY__", f"{{system}}.{{e.name}}", len(files), time.perf_counter() - started)
print(rows)
""",
    "kith_ingest": """
import os
from pathlib import Path
from pipelines.ingest import ingest
systems = os.environ.get("KITH_BENCH_SYSTEMS")
s = ingest(Path({landing!r}), Path({warehouse!r}), systems=systems.split(",") if systems else None)
print(s.rows_read)
""",
}


def run_stage(name: str, systems: list[str] | None = None, **kwargs) -> dict:
    """Run one stage in a fresh process (``systems``: only these source systems)."""
    code = STAGE_CODE[name].format(**kwargs)
    wrapper = (
        "import resource, sys, time\n"
        "t = time.perf_counter()\n"
        f"exec({code!r})\n"
        "print('__SECONDS__', time.perf_counter() - t)\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print('__RSS_KB__', u.ru_maxrss)\n"
        "print('__CPU__', u.ru_utime + u.ru_stime)\n"
    )
    env = {**os.environ, "KITH_BENCH_SYSTEMS": ",".join(systems or [])}
    proc = subprocess.run(
        [sys.executable, "-c", wrapper], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{proc.stderr[-3000:]}")
    out = proc.stdout.splitlines()
    seconds = float(next(ln.split()[1] for ln in out if ln.startswith("__SECONDS__")))
    rss_kb = int(next(ln.split()[1] for ln in out if ln.startswith("__RSS_KB__")))
    cpu = float(next(ln.split()[1] for ln in out if ln.startswith("__CPU__")))
    rows = next((int(ln) for ln in out if ln.strip().isdigit()), None)
    entities = {}
    for ln in out:
        if ln.startswith("__ENTITY__"):
            _, entity, files, entity_seconds = ln.split()
            entities[entity] = {"files": int(files), "seconds": round(float(entity_seconds), 2)}
    return {
        "stage": name,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 1),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "rows": rows,
        **({"entities": entities} if entities else {}),
    }


def _fresh(work: Path) -> None:
    """Remove the warehouses and dlt state of an earlier round: every round loads from scratch."""
    for stale in (work / "native.duckdb", work / "kith.duckdb", work / ".dlt", work / "tmp"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()


def _summary(name: str, runs: list[dict]) -> dict:
    """Best (fastest) and median round of a stage; peak memory is the highest of the rounds."""
    seconds = [r["seconds"] for r in runs]
    rows = {r["rows"] for r in runs}
    if len(rows) != 1:
        raise SystemExit(f"stage {name} read different row counts in different rounds: {sorted(rows)}")
    best = min(runs, key=lambda r: r["seconds"])
    return {
        **({"entities_in_best_round": best["entities"]} if "entities" in best else {}),
        "stage": name,
        "rounds": len(runs),
        "seconds": min(seconds),
        "median_seconds": round(statistics.median(seconds), 2),
        "all_seconds": seconds,
        "cpu_seconds": [r["cpu_seconds"] for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rows": rows.pop(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--reuse", action="store_true", help="reuse sample data generated by an earlier run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved native/kith rounds (best of each counts)")
    parser.add_argument(
        "--exclude", nargs="+", default=[], metavar="SYSTEM", help="leave these source systems out of both sides"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    sys.path.insert(0, str(ROOT))
    from pipelines.sources import SYSTEMS

    unknown = sorted(set(args.exclude) - set(SYSTEMS))
    if unknown:
        raise SystemExit(f"unknown source system(s): {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    systems = [s for s in SYSTEMS if s not in args.exclude] if args.exclude else None
    name = f"ingest-{args.customers}" + "".join(f"-without-{s}" for s in args.exclude)
    work = args.workdir / f"ingest-{args.customers}"
    landing, truth = work / "landing", work / "truth"
    stages = []
    if not (args.reuse and landing.is_dir()):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        stages.append(run_stage("generate", landing=str(landing), truth=str(truth), customers=args.customers))
    files = [p for p in landing.rglob("*") if p.is_file() and p.relative_to(landing).parts[0] not in args.exclude]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    native_runs, kith_runs = [], []
    for i in range(args.rounds):
        _fresh(work)
        native_runs.append(
            run_stage("duckdb_native", systems, landing=str(landing), warehouse=str(work / "native.duckdb"))
        )
        _fresh(work)
        kith_runs.append(run_stage("kith_ingest", systems, landing=str(landing), warehouse=str(work / "kith.duckdb")))
        print(
            f"round {i + 1}: native {native_runs[-1]['seconds']} s, kith {kith_runs[-1]['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    native, kith = _summary("duckdb_native", native_runs), _summary("kith_ingest", kith_runs)
    stages += [native, kith]
    per_round = [
        round((k["rows"] / k["seconds"]) / (n["rows"] / n["seconds"]), 3)
        for n, k in zip(native_runs, kith_runs, strict=True)
    ]
    report = {
        "customers": args.customers,
        "excluded_systems": args.exclude,
        "files": len(files),
        "landing_mb": round(size_mb, 1),
        "machine": f"{platform.machine()}, {resource.getpagesize()} B pages, python {platform.python_version()}",
        "rounds": args.rounds,
        "stages": stages,
        "native_rows_per_second": round(native["rows"] / native["seconds"]),
        "kith_rows_per_second": round(kith["rows"] / kith["seconds"]),
        "kith_vs_native_speed": round((kith["rows"] / kith["seconds"]) / (native["rows"] / native["seconds"]), 3),
        "kith_vs_native_speed_median": round(
            (kith["rows"] / kith["median_seconds"]) / (native["rows"] / native["median_seconds"]), 3
        ),
        "kith_vs_native_speed_per_round": per_round,
        "target": "kith_vs_native_speed >= 0.5",
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Ingestion benchmark, {args.customers:,} customers"
        + (f", without {', '.join(args.exclude)}" if args.exclude else ""),
        "",
        f"{len(files):,} landing files, {size_mb:,.1f} MB. Command: "
        f"`python benchmarks/ingest_benchmark.py --customers {args.customers} --rounds {args.rounds}"
        + (f" --exclude {' '.join(args.exclude)}" if args.exclude else "")
        + f"`. Native and Kith interleaved over {args.rounds} rounds; best round of each (median in brackets).",
        "",
        "| stage | seconds | CPU seconds | rows | rows/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in stages:
        rate = f"{s['rows'] / s['seconds']:,.0f}" if s["rows"] else ""
        rows = f"{s['rows']:,}" if s["rows"] else ""
        seconds = f"{s['seconds']} ({s['median_seconds']})" if "median_seconds" in s else f"{s['seconds']}"
        cpu = s["cpu_seconds"] if isinstance(s["cpu_seconds"], float) else min(s["cpu_seconds"])
        lines.append(f"| {s['stage']} | {seconds} | {cpu} | {rows} | {rate} | {s['peak_rss_mb']} |")
    lines += [
        "",
        f"Kith ingestion runs at **{report['kith_vs_native_speed']:.0%}** of DuckDB's native read speed, best "
        f"round against best round ({report['kith_vs_native_speed_median']:.0%} median against median; per "
        f"round: {', '.join(f'{r:.0%}' for r in per_round)}; target: at least 50%). The native read skips "
        "validation, quarantine, lineage and dlt's load bookkeeping, and silently drops malformed rows "
        "(`ignore_errors`), which Kith must not do.",
    ]
    by_system: dict[str, list[float]] = {}
    for entity, measured in native.get("entities_in_best_round", {}).items():
        by_system.setdefault(entity.split(".")[0], [0, 0.0])
        by_system[entity.split(".")[0]][0] += measured["files"]
        by_system[entity.split(".")[0]][1] += measured["seconds"]
    if by_system:
        lines += [
            "",
            "Where DuckDB's native read spends its time (best round): "
            + ", ".join(f"{system} {secs:.1f} s ({n:,} files)" for system, (n, secs) in by_system.items())
            + ". (Kith reads the small files of a batch as one combined file.)",
        ]
    (out_dir / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
