"""``kith forget <email|phone|loyalty number|customer id>``: erase a person from everything Kith holds."""

from __future__ import annotations

import argparse

from kith.config import Paths
from kith.console import console, out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "forget",
        help="erase a person (GDPR/CCPA): landing files, raw, staging, marts, snapshots, identity, activation",
        description="Erase the person an email, phone (any format), loyalty number, CRM or shop id, or customer id "
        "identifies: their lines in the landing files, their rows in every warehouse table, their history and "
        "identity graph, and their activation state (removes are queued for every destination that holds them: "
        "run `kith activate` to send them). The erasure is logged in privacy.erasure_log with a hash of the request, "
        "never the request. Run it on a built warehouse with every landing file ingested.",
    )
    p.add_argument("identifier", help="email, phone, loyalty number, CRM id, shop customer id or customer id")
    p.add_argument("--dry-run", action="store_true", help="show what would be erased; change nothing")
    p.add_argument(
        "--no-compact",
        action="store_true",
        help="skip rewriting the warehouse file (deleted rows then stay in its free blocks until reused)",
    )
    p.set_defaults(func=cmd_forget)


def cmd_forget(args: argparse.Namespace, paths: Paths) -> int:
    from kith.privacy.erase import forget

    report = forget(paths, args.identifier, dry_run=args.dry_run, compact=not args.no_compact)
    customers = ", ".join(f"{c} (matched as {how})" for c, how in report.customers)
    verb = "would erase" if report.dry_run else "erased"
    out.print(f"{verb} customer {customers}")
    out.print(
        f"  landing files: {report.landing_lines:,} line(s) in {report.landing_files:,} file(s)"
        + (" emptied (other lines keep their numbers)" if not report.dry_run else "")
    )
    for label, rows in (("raw", report.raw_rows), ("warehouse", report.warehouse_rows)):
        total = sum(rows.values())
        detail = ", ".join(f"{name} {n:,}" for name, n in sorted(rows.items()))
        out.print(f"  {label}: {total:,} row(s)" + (f" ({detail})" if detail else ""))
    if report.dry_run:
        out.print("dry run: nothing was changed")
        return 0
    if report.activation:
        out.print(
            "  activation: "
            + ", ".join(f"{name} {n:,}" for name, n in sorted(report.activation.items()))
            + " (state and control-group assignment deleted; removes queued)"
        )
    for audience, destination, n in report.queued_removals:
        out.print(f"  queued: {n:,} remove(s) of audience {audience} for {destination}: run `kith activate` to send")
    if report.republished:
        out.print(f"  BI publication republished without the person: {report.republished}")
    out.print(f"  warehouse file rewritten without free blocks: {'yes' if report.compacted else 'no (--no-compact)'}")
    out.print(
        f"logged as erasure {report.erasure_id} in privacy.erasure_log "
        f"(request SHA-256 {report.request_sha256[:16]}..., no personal data)"
    )
    for warning in report.warnings:
        console.print(f"warning: {warning}")
    if report.residue:
        found = ", ".join(f"{table} ({n:,} rows)" for table, n in report.residue)
        console.print(f"kith forget: an identifier of the person is still found in: {found}")
        return 1
    out.print("verified: no identifier of the person is left in any warehouse table")
    return 1 if report.warnings else 0
