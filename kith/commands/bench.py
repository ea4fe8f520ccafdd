"""``kith bench``: the end-to-end scale benchmark (issue #9). The stages and the report: ``kith.bench``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from kith.config import Paths, UserError
from kith.console import console, out, parse_positive


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = 0.0
    if not 0 < share < 0.5:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share between 0 and 0.5 (e.g. 0.01)")
    return share


def _memory_limit(value: str) -> str:
    from kith.bench import RSS_LIMIT_MB, parse_size

    try:
        size = parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 256 * 1024**2 <= size < RSS_LIMIT_MB * 1024**2:
        raise argparse.ArgumentTypeError(
            f"{value!r} must be at least 256MB and below the 8 GiB the run must stay under"
        )
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench",
        help="end-to-end scale benchmark: generate, ingest, build, identity, incremental vs full refresh, memory",
        description="For each number of customers: generate the sample with the last days held back (about "
        "--new-share of the data), DuckDB's native read and kith ingest of the same files, the full dbt build, "
        "identity components next to scipy on the built warehouse's links, the held-back delivery ingested and "
        "built incrementally next to a full refresh of the same warehouse, and the Python feature models; each "
        "stage in its own process with its peak memory. Writes bench.md and bench.json with the targets of "
        "issue #9 marked met or not met.",
    )
    p.add_argument(
        "--customers", type=parse_positive, nargs="+", default=[10_000], help="scales to run (e.g. 10000 100000)"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--workdir", help="where the data and warehouses go (default data/bench/e2e); emptied per scale")
    p.add_argument("--out", help="folder of bench.md and bench.json (default <KITH_REPORTS or reports>/bench)")
    p.add_argument(
        "--memory-limit",
        type=_memory_limit,
        default=None,
        help="DuckDB memory_limit for the builds (default 4GB, so that a stage stays under 8 GiB resident)",
    )
    p.add_argument("--threads", type=parse_positive, default=2, help="DuckDB and dbt threads (default 2)")
    p.add_argument("--new-share", type=_share, default=0.01, help="share of the data held back (default 0.01)")
    p.add_argument("--keep", action="store_true", help="keep the generated data and warehouses")
    p.add_argument(
        "--merge",
        action="store_true",
        help="add these scales to the report already in --out (a scale run again replaces its old figures)",
    )
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace, paths: Paths) -> int:
    from kith.bench import (
        DEFAULT_MEMORY_LIMIT,
        PROJECT_DIR,
        ScaleSettings,
        build_report,
        check_disk,
        previous_scales,
        run_scale,
        write_report,
    )

    workdir = Path(args.workdir).expanduser().resolve() if args.workdir else PROJECT_DIR / "data" / "bench" / "e2e"
    target = Path(args.out).expanduser().resolve() if args.out else paths.reports / "bench"
    if target.is_file():
        raise UserError(f"--out {target} is a file: give a folder")
    if workdir.is_file():
        raise UserError(f"--workdir {workdir} is a file: give a folder")
    if target == workdir or workdir in target.parents:
        raise UserError(f"--out {target} must not be inside --workdir {workdir} (it is emptied per scale)")
    customers = sorted(set(args.customers))
    for n in customers:
        check_disk(workdir, n)
    scales = [s for s in previous_scales(target) if s["customers"] not in customers] if args.merge else []
    command = "kith bench " + shlex.join(sys.argv[2:]) if sys.argv[1:2] == ["bench"] else "kith bench"

    def show(line: str) -> None:
        console.print(line)

    with console.status("") as spinner:

        def tick_for(label: str):
            def tick(seconds: float, rss_mb: float) -> None:
                spinner.update(f"{label}: {seconds:,.0f} s, {rss_mb:,.0f} MB resident")

            return tick

        for n in customers:
            settings = ScaleSettings(
                customers=n,
                seed=args.seed,
                workdir=workdir,
                memory_limit=args.memory_limit or DEFAULT_MEMORY_LIMIT,
                threads=args.threads,
                new_share=args.new_share,
                keep=args.keep,
            )
            scales.append(run_scale(settings, show, tick_for))
            md, js = write_report(build_report(scales, command), target)  # after every scale: long runs keep theirs
            show(f"[{n:,}] done; report so far: {md}")
    report = build_report(scales, command)
    md, js = write_report(report, target)
    for t in report["targets"]:
        state = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        where = f" at {t['customers']:,}" if t["customers"] else ""
        out.print(f"{t['target']}{where}: {t['value'] if t['value'] is not None else '-'} ({t['limit']}): {state}")
    out.print(f"report: {md}")
    out.print(f"data:   {js}")
    return 0
