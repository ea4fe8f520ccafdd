"""Ingestion benchmark: Kith's dlt ingestion next to DuckDB's own readers on the same files.

    python benchmarks/ingest_benchmark.py --customers 100000 [--workdir data/bench]

Measured in one run on this machine (machines are noisy, so only ratios within a run are
meaningful): generation; DuckDB's native read of every landing file into a table
(`read_json` / `read_csv`, the speed limit for any loader); `kith ingest` of the same files
(parse, validate, quarantine, dlt load). Peak resident memory of each stage is measured in a
separate process. Writes benchmarks/results/ingest-<customers>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
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
import duckdb
from pathlib import Path
from pipelines.sources import SYSTEMS, entities
from pipelines.landing import discover
con = duckdb.connect({warehouse!r})
con.execute("set TimeZone = 'UTC'")
rows = 0
for system in SYSTEMS:
    for e in entities(system):
        files = [str(p) for p in discover(Path({landing!r}), e)]
        if not files:
            continue
        reader = (
            f"read_json(?, format = 'newline_delimited', ignore_errors = true)" if e.format == "jsonl"
            else f"read_csv(?, header = true, union_by_name = true, ignore_errors = true)"
        )
        con.execute(f"create table {{system}}__{{e.name}} as select * from {{reader}}", [files])
        rows += con.execute(f"select count(*) from {{system}}__{{e.name}}").fetchone()[0]
print(rows)
""",
    "kith_ingest": """
from pathlib import Path
from pipelines.ingest import ingest
s = ingest(Path({landing!r}), Path({warehouse!r}))
print(s.rows_read)
""",
}


def run_stage(name: str, **kwargs) -> dict:
    code = STAGE_CODE[name].format(**kwargs)
    wrapper = (
        "import resource, sys, time\n"
        "t = time.perf_counter()\n"
        f"exec({code!r})\n"
        "print('__SECONDS__', time.perf_counter() - t)\n"
        "print('__RSS_KB__', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper], cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{proc.stderr[-3000:]}")
    out = proc.stdout.splitlines()
    seconds = float(next(ln.split()[1] for ln in out if ln.startswith("__SECONDS__")))
    rss_kb = int(next(ln.split()[1] for ln in out if ln.startswith("__RSS_KB__")))
    rows = next((int(ln) for ln in out if ln.strip().isdigit()), None)
    return {"stage": name, "seconds": round(seconds, 2), "peak_rss_mb": round(rss_kb / 1024, 1), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench")
    args = parser.parse_args()
    work = args.workdir / f"ingest-{args.customers}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    landing, truth = work / "landing", work / "truth"
    stages = [run_stage("generate", landing=str(landing), truth=str(truth), customers=args.customers)]
    files = [p for p in landing.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    native = run_stage("duckdb_native", landing=str(landing), warehouse=str(work / "native.duckdb"))
    kith = run_stage("kith_ingest", landing=str(landing), warehouse=str(work / "kith.duckdb"))
    stages += [native, kith]
    report = {
        "customers": args.customers,
        "files": len(files),
        "landing_mb": round(size_mb, 1),
        "machine": f"{platform.machine()}, {resource.getpagesize()} B pages, python {platform.python_version()}",
        "stages": stages,
        "native_rows_per_second": round(native["rows"] / native["seconds"]),
        "kith_rows_per_second": round(kith["rows"] / kith["seconds"]),
        "kith_vs_native_speed": round((kith["rows"] / kith["seconds"]) / (native["rows"] / native["seconds"]), 3),
        "target": "kith_vs_native_speed >= 0.5",
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"ingest-{args.customers}.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Ingestion benchmark, {args.customers:,} customers",
        "",
        f"{len(files):,} landing files, {size_mb:,.1f} MB. Command: "
        f"`python benchmarks/ingest_benchmark.py --customers {args.customers}`",
        "",
        "| stage | seconds | rows | rows/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in stages:
        rate = f"{s['rows'] / s['seconds']:,.0f}" if s["rows"] else ""
        rows = f"{s['rows']:,}" if s["rows"] else ""
        lines.append(f"| {s['stage']} | {s['seconds']} | {rows} | {rate} | {s['peak_rss_mb']} |")
    lines += [
        "",
        f"Kith ingestion runs at **{report['kith_vs_native_speed']:.0%}** of DuckDB's native read speed "
        "(target: at least 50%). The native read skips validation, quarantine, lineage and dlt's load "
        "bookkeeping, and silently drops malformed rows (`ignore_errors`), which Kith must not do.",
    ]
    (out_dir / f"ingest-{args.customers}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
