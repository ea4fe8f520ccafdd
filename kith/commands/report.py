"""``kith report [--out PATH]``: a static HTML report for people (plots, key figures, data quality).

See ``kith.report`` for what it holds. The warehouse is opened read-only, so the report can be
written while nothing else writes; dbt's test results come from ``run_results.json`` in dbt's target
folder (``$DBT_TARGET_PATH`` or ``target/``) unless ``--run-results`` names another.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kith.config import Paths, UserError
from kith.console import console, out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a static HTML report: segments, CLV, channels, identity, data quality (opens offline)",
        description="Write one self-contained HTML file (inline SVG plots, no network access needed) with the "
        "headline metrics, RFM segment sizes, the CLV distribution, channel mix and online-to-offline journeys, "
        "identity-resolution statistics, dbt test results and the rows rejected at ingestion.",
    )
    p.add_argument("--out", help="HTML file to write (default <KITH_REPORTS or reports>/kith_report.html)")
    p.add_argument(
        "--run-results",
        help="dbt run_results.json to report tests from (default: the one in dbt's target folder)",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace, paths: Paths) -> int:
    from kith.publish import dbt_target_path
    from kith.report import REPORT_FILE, write_report

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith demo` (or ingest and build) first")
    target = Path(args.out).expanduser().resolve() if args.out else paths.reports / REPORT_FILE
    if target.is_dir():
        raise UserError(f"--out {target} is a folder: give the HTML file's path (e.g. {target / REPORT_FILE})")
    run_results = Path(args.run_results).expanduser().resolve() if args.run_results else None
    if run_results is not None and not run_results.is_file():
        raise UserError(f"--run-results {run_results} is not a file")
    console.print("writing the report ...")
    report = write_report(paths.warehouse, target, run_results or dbt_target_path() / "run_results.json")
    for section in report.sections:
        state = f"not built: {section.missing}" if section.missing else f"{len(section.plots)} plot(s)"
        out.print(f"  {section.title}: {state}")
    out.print(f"report: {target}")
    return 0
