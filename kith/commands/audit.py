"""``kith audit``: reconcile every source from the landing files to raw, staging and the marts."""

from __future__ import annotations

import argparse

from rich.table import Table

from kith.config import Paths, UserError
from kith.console import console, out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit",
        help="reconcile row counts from landing files to raw, staging and marts; exit 1 if anything is unexplained",
        description="For every source entity: rows in the landing files, duplicate deliveries, rejected, erased, "
        "loaded, raw (superseded versions of mutable records), staging (resent events dropped), and the marts built "
        "from it (orphan lines, rows loaded after the last build). Every difference is explained; anything else is "
        "listed as unexplained and the command exits 1. Writes <reports>/audit.json.",
    )
    p.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace, paths: Paths) -> int:
    from kith.audit import audit, write_report

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith ingest` first")
    if not paths.landing.is_dir():
        raise UserError(f"landing folder {paths.landing} does not exist")
    result = audit(paths.landing, paths.warehouse)
    table = Table(title="reconciliation: landing -> raw -> staging -> marts", title_justify="left")
    columns = (
        "source",
        "landing",
        "dup. delivery",
        "erased",
        "rejected",
        "loaded",
        "superseded",
        "raw",
        "resent",
        "staging",
        "marts (orphans, not built)",
        "unexplained",
    )
    for col in columns:
        table.add_column(col, justify="left" if col in ("source", "marts (orphans, not built)") else "right")
    for f in result.flows:
        marts = "; ".join(
            f"{m.mart.removeprefix('marts.')} {m.rows:,}"
            + (f" ({m.orphans:,} orphans)" if m.orphans else "")
            + (f" ({m.not_built:,} not built)" if m.not_built else "")
            for m in f.marts
        )
        table.add_row(
            f.name,
            f"{f.landing_rows:,}",
            f"{f.duplicate_rows:,}",
            f"{f.erased:,}",
            f"{f.rejected:,}",
            f"{f.loaded:,}",
            f"{f.superseded:,}" if f.disposition == "merge" else "",
            f"{f.raw:,}",
            f"{f.resent:,}" if f.disposition == "append" else "",
            "" if f.staging is None else f"{f.staging:,}",
            marts,
            str(len(f.problems)) if f.problems else "",
        )
    out.print(table)
    out.print(
        "landing = rejected + loaded (duplicate deliveries load nothing; erased lines are emptied in the files); "
        "raw = loaded (append) or loaded - superseded (mutable); staging = raw - resent"
    )
    if result.pending_files:
        out.print(f"pending: {len(result.pending_files):,} landing file(s) not ingested yet (run `kith ingest`)")
    if result.erasures:
        out.print(f"erasures: {result.erasures:,} logged in privacy.erasure_log")
    if result.queued_removals:
        out.print(f"activation: {result.queued_removals:,} remove(s) queued by erasures (run `kith activate`)")
    report = write_report(result, paths.reports)
    out.print(f"report: {report}")
    if result.problems:
        console.print(f"kith audit: {len(result.problems)} unexplained difference(s):", soft_wrap=True)
        for problem in result.problems[:50]:
            console.print(f"  {problem}", soft_wrap=True)
        return 1
    out.print("every difference is explained")
    return 0
