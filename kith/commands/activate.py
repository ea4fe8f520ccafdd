"""``kith activate [AUDIENCE ...] [--destination D] [--dry-run]``: sync audiences to their destinations.

Sends only what changed since the last successful sync (adds, updates, removes), to the destinations
in ``activation.yml``, with consent checked at the time of the sync and the control group held out.
Prints one row per audience and destination (members, held out as control, suppressed for missing
consent or identifier, adds, updates, removes, changes the destination acknowledged, status), then
where each went; exits 1 if any destination failed or timed out (the
others are still synced), 2 on a mistake (unknown audience or destination, a bad config).
"""

from __future__ import annotations

import argparse

from rich.markup import escape
from rich.table import Table

from kith.config import Paths, UserError
from kith.console import out

COLUMNS = (
    "audience",
    "destination",
    "members",
    "held out",
    "no consent",
    "no identifier",
    "adds",
    "updates",
    "removes",
    "sent",
    "status",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "activate",
        help="sync audiences to their destinations (only what changed; consent checked; control held out)",
    )
    p.add_argument("audiences", nargs="*", metavar="AUDIENCE", help="audiences to sync (default: all)")
    p.add_argument(
        "--destination",
        "-d",
        action="append",
        dest="destinations",
        metavar="D",
        help="only this destination (repeatable; default: all in activation.yml)",
    )
    p.add_argument("--dry-run", action="store_true", help="compute and print the changes; send and change nothing")
    p.add_argument("--config", help="activation config (default $KITH_ACTIVATION_CONFIG or activation.yml)")
    p.set_defaults(func=cmd_activate)


def cmd_activate(args: argparse.Namespace, paths: Paths) -> int:
    from pipelines.activation.config import load_config
    from pipelines.activation.sync import activate

    config = load_config(args.config)
    for name in args.destinations or ():
        destination = config.destination(name)
        missing = destination.missing_env()
        if missing and not args.dry_run:
            raise UserError(f"destination {name} is not configured: set {', '.join(missing)}")
    report = activate(
        paths.warehouse,
        config,
        reports=paths.reports,
        audiences=args.audiences,
        destinations=args.destinations,
        dry_run=args.dry_run,
    )
    table = Table(title=f"sync {report.sync_id}" + (" (dry run)" if report.dry_run else ""), title_justify="left")
    for column in COLUMNS:
        left = column in ("audience", "destination", "status")
        table.add_column(column, justify="left" if left else "right")
    for r in report.results:
        table.add_row(
            r.audience,
            r.destination,
            f"{r.members:,}",
            f"{r.held_out:,}",
            f"{r.no_consent:,}",
            f"{r.no_identifier:,}",
            f"{r.adds:,}",
            f"{r.updates:,}",
            f"{r.removes:,}",
            "-" if report.dry_run else f"{r.acknowledged:,}",
            r.status,
        )
    out.print(table)
    out.print("where the changes went:" if not report.dry_run else "where the changes would go:")
    for r in report.results:
        outcome = f" ({r.status}: {escape(r.error)})" if r.error else ""
        out.print(f"  {r.audience} -> {r.destination}: {escape(r.target)}{outcome}")
    if report.dry_run:
        out.print("dry run: nothing was sent and no state changed")
    else:
        statuses = [r.status for r in report.results]
        summary = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        out.print(
            f"{len(report.results)} audience x destination syncs in {report.seconds:.1f}s: {summary}; "
            f"{sum(r.acknowledged for r in report.results):,} changes acknowledged"
        )
        out.print(f"state and history: activation.sync_state, activation.sync_history in {paths.warehouse}")
    return 1 if report.failed else 0
