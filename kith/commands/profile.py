"""``kith profile <email|phone|loyalty number|customer id>``: one customer, as call-centre and store staff see them."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kith.config import Paths, UserError
from kith.console import out, parse_positive


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "profile",
        help="show one customer's unified profile (call centre, store)",
        description="Look a customer up by email, phone (any format), loyalty number, CRM or shop id, or "
        "customer id, and show the unified profile: identifiers, consent, loyalty, traits, scores, recent "
        "orders and touchpoints, next best offers.",
    )
    p.add_argument("identifier", help="email, phone, loyalty number, CRM id, shop customer id or customer id")
    p.add_argument("--json", action="store_true", help="print the profile as JSON instead of a layout")
    p.add_argument("--orders", type=parse_positive, default=5, help="recent orders to show (default 5)")
    p.add_argument("--touchpoints", type=parse_positive, default=10, help="recent touchpoints to show (default 10)")
    p.set_defaults(func=cmd_profile)


def cmd_profile(args: argparse.Namespace, paths: Paths) -> int:
    from kith.profile import ProfileNotFoundError, explain_not_found, find_customers, load_profile
    from pipelines.ingest import open_warehouse

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith demo` first")
    con = open_warehouse(paths.warehouse, read_only=True)
    try:
        try:
            matches = find_customers(con, args.identifier)
        except ProfileNotFoundError as exc:
            raise UserError(str(exc)) from None
        customers = sorted({m.customer_id for m in matches})
        if not customers:
            raise UserError(explain_not_found(con, args.identifier))
        if len(customers) > 1:
            found = ", ".join(f"{m.customer_id} (as {m.matched_as})" for m in matches)
            raise UserError(f"{args.identifier!r} matches {len(customers)} customers: {found}; look up by customer id")
        profile = load_profile(con, matches[0], orders=args.orders, touchpoints=args.touchpoints)
    finally:
        con.close()
    if args.json:
        out.print_json(json.dumps(_as_json(profile), default=_json_default))
    else:
        _render(profile)
    return 0


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _as_json(profile) -> dict[str, Any]:
    return {
        "customer": profile.customer,
        "matched": {"as": profile.matched.matched_as, "value": profile.matched.matched_value},
        "source_systems": profile.source_systems,
        "identifiers": profile.identifiers,
        "consents": profile.consents,
        "order_summary": profile.order_summary,
        "recent_orders": profile.orders,
        "recent_touchpoints": profile.touchpoints,
        **profile.sections,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value) or "-"
    return str(value)


def _render(profile) -> None:
    from rich.panel import Panel
    from rich.table import Table

    c = profile.customer
    name = " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p) or "(no name on record)"
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    rows = [
        ("customer", f"{c['customer_id']}  (found by {profile.matched.matched_as} {profile.matched.matched_value})"),
        ("email", f"{_fmt(c.get('email'))}  [dim](from {_fmt(c.get('email_source'))})[/dim]"),
        ("phone", f"{_fmt(c.get('phone_e164'))}  [dim](from {_fmt(c.get('phone_source'))})[/dim]"),
        ("birth date", _fmt(c.get("birth_date"))),
        (
            "address",
            ", ".join(_fmt(c.get(k)) for k in ("address_line1", "city", "postcode", "country_code") if c.get(k)) or "-",
        ),
        (
            "loyalty",
            f"{_fmt(c.get('loyalty_number'))}  tier {_fmt(c.get('loyalty_tier'))}, "
            f"{_fmt(c.get('loyalty_points_balance'))} points"
            if c.get("is_loyalty_member")
            else "not a member",
        ),
        ("home store", f"{_fmt(c.get('home_store_id'))}  [dim]({_fmt(c.get('home_store_source'))})[/dim]"),
        ("acquired", f"{_fmt(c.get('acquisition_channel'))} on {_fmt(c.get('acquired_at'))}"),
        ("seen", f"{_fmt(c.get('first_seen_at'))} to {_fmt(c.get('last_seen_at'))}"),
        (
            "records from",
            f"{len(profile.source_systems)} systems: "
            + ", ".join(f"{s} ({n})" for s, n in sorted(profile.source_systems.items())),
        ),
    ]
    s = profile.order_summary
    rows.append(
        (
            "orders",
            f"{s['orders']} ({s['online_orders']} online, {s['store_orders']} in store), "
            f"net spend {_fmt(s['net_spend'])}, last {_fmt(s['last_order_at'])}",
        )
    )
    for label, value in rows:
        head.add_row(label, value)
    out.print(Panel(head, title=f"[bold]{name}[/bold]", title_align="left"))

    ids = Table(title="identifiers", title_justify="left")
    for col in ("type", "value", "first seen", "last seen", "records"):
        ids.add_column(col)
    for i in profile.identifiers:
        ids.add_row(
            i["identifier_type"],
            i["identifier_value"],
            _fmt(i["first_seen_at"]),
            _fmt(i["last_seen_at"]),
            _fmt(i["record_count"]),
        )
    out.print(ids)

    consent = Table(title="consent (now)", title_justify="left")
    for col in ("channel", "purpose", "state", "since", "recorded by"):
        consent.add_column(col)
    for r in profile.consents:
        consent.add_row(
            r["consent_channel"],
            r["consent_purpose"],
            "granted" if r["is_granted"] else "withdrawn",
            _fmt(r["changed_at"]),
            _fmt(r["source_system"]),
        )
    if not profile.consents:
        consent.add_row("-", "-", "never asked: no marketing", "-", "-")
    out.print(consent)

    for section in ("traits", "scores"):
        values = profile.sections.get(section)
        if values:
            grid = Table(title=section, title_justify="left", show_header=False)
            grid.add_column(style="bold")
            grid.add_column()
            for k, v in values.items():
                grid.add_row(k, _fmt(v))
            out.print(grid)
    recs = profile.sections.get("recommendations")
    if recs:
        t = Table(title="next best offers", title_justify="left")
        shown = ("recommendation_rank", "sku", "product_name", "brand", "category", "score", "quantity_on_hand")
        cols = [k for k in shown if k in recs[0]] or [k for k in recs[0] if k != "customer_id"]
        for col in cols:
            t.add_column(col)
        for r in recs:
            t.add_row(*(_fmt(r[k]) for k in cols))
        out.print(t)

    orders = Table(title="recent orders", title_justify="left")
    for col in ("when", "order", "channel", "store", "status", "items", "paid", "returned", "net"):
        orders.add_column(col)
    for o in profile.orders:
        orders.add_row(
            _fmt(o["ordered_at"]),
            o["order_id"],
            o["order_channel"],
            _fmt(o["store_id"]),
            _fmt(o["status"]),
            _fmt(o["item_count"]),
            f"{_fmt(o['paid_amount'])} {o['currency_code'] or ''}",
            _fmt(o["returned_quantity"]),
            _fmt(o["net_amount"]),
        )
    out.print(orders)

    touch = Table(title="recent touchpoints", title_justify="left")
    for col in ("when", "channel", "what", "detail"):
        touch.add_column(col)
    for t in profile.touchpoints:
        touch.add_row(_fmt(t["occurred_at"]), t["channel"], t["touchpoint_type"], _fmt(t["detail"]))
    out.print(touch)
