"""Did a campaign work? Treated versus control customers of an audience, after a date.

Every customer an audience has held is in ``activation.audience_assignments`` as treatment or
control (fixed at first sight by a hash, never sent when control). From ``marts.fct_orders`` on and
after ``--since`` (cancelled orders excluded), per group: the share of customers who bought
(purchase rate) and net revenue per customer (``net_amount``: paid minus returns; a customer who did
not buy counts as 0). The comparison is intention-to-treat: all assigned customers, whether or not a
destination could reach them (consent, identifiers), because the control group is drawn the same way
and restricting only the treated side would bias the comparison.

- Purchase rate: difference treated - control with a 95% confidence interval (Newcombe's hybrid
  score interval, statsmodels ``confint_proportions_2indep``) and a two-sided pooled z-test.
- Revenue per customer: difference of means with a 95% Welch interval and Welch's t-test (statsmodels
  ``CompareMeans``; unequal variances).

Results are printed and written to ``<reports>/campaign_<audience>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np

from kith.config import Paths, UserError

CONFIDENCE = 0.95


@dataclass(frozen=True)
class GroupOutcome:
    customers: int
    buyers: int
    purchase_rate: float
    revenue: float
    revenue_per_customer: float


@dataclass(frozen=True)
class CampaignEvaluation:
    audience: str
    since: str
    treated: GroupOutcome
    control: GroupOutcome
    purchase_rate_difference: float
    purchase_rate_ci: tuple[float, float]
    purchase_rate_p_value: float | None
    revenue_per_customer_difference: float
    revenue_per_customer_ci: tuple[float | None, float | None]
    revenue_p_value: float | None
    treated_in_a_destination_now: int
    confidence: float = CONFIDENCE

    @property
    def worked(self) -> bool:
        """The purchase-rate interval lies above zero."""
        return self.purchase_rate_ci[0] > 0

    def lines(self) -> list[str]:
        t, c = self.treated, self.control
        low, high = self.purchase_rate_ci
        rlow, rhigh = self.revenue_per_customer_ci
        revenue_ci = f"[{rlow:,.2f}, {rhigh:,.2f}]" if rlow is not None else "(no variation)"
        return [
            f"campaign {self.audience}: purchases on and after {self.since}",
            f"  treated: {t.customers:,} customers, {t.buyers:,} bought ({pct(t.purchase_rate)}), "
            f"revenue {t.revenue:,.2f} ({t.revenue_per_customer:,.2f} per customer)",
            f"  control: {c.customers:,} customers, {c.buyers:,} bought ({pct(c.purchase_rate)}), "
            f"revenue {c.revenue:,.2f} ({c.revenue_per_customer:,.2f} per customer)",
            f"  purchase rate difference {pct(self.purchase_rate_difference)}, {self.confidence:.0%} CI "
            f"[{pct(low)}, {pct(high)}], p = {_p(self.purchase_rate_p_value)}",
            f"  revenue per customer difference {self.revenue_per_customer_difference:,.2f}, "
            f"{self.confidence:.0%} CI {revenue_ci}, p = {_p(self.revenue_p_value)}",
            "  verdict: "
            + (
                "the campaign raised the purchase rate (interval above zero)"
                if self.worked
                else "no proven effect on the purchase rate (the interval includes zero or lies below it)"
            ),
        ]


def pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def evaluate_campaign(con: duckdb.DuckDBPyConnection, audience: str, since: date) -> CampaignEvaluation:
    """Compare treated and control customers of ``audience`` from ``since`` on."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    tables = {
        f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    }
    if "activation.audience_assignments" not in tables:
        raise UserError("no audience has been synced yet (activation.audience_assignments): run `kith activate`")
    if "marts.fct_orders" not in tables:
        raise UserError("marts.fct_orders does not exist: build the marts (kith build) first")
    rows = con.execute(
        """
        with assigned as (
            select customer_id, assignment_group
            from activation.audience_assignments
            where audience = $audience
        ),
        purchases as (
            select customer_id, count(*) as orders, sum(net_amount) as revenue
            from marts.fct_orders
            where not is_cancelled and ordered_at >= $since
                and customer_id in (select customer_id from assigned)
            group by 1
        )
        select
            assigned.assignment_group,
            coalesce(purchases.orders, 0) > 0 as bought,
            coalesce(purchases.revenue, 0)::double as revenue
        from assigned
        left join purchases on purchases.customer_id = assigned.customer_id
        """,
        {"audience": audience, "since": since},
    ).fetchall()
    if not rows:
        raise UserError(f"no customers were ever assigned for audience {audience!r}: run `kith activate` first")
    groups = {g: [(b, r) for grp, b, r in rows if grp == g] for g in ("treatment", "control")}
    for name, members in groups.items():
        if len(members) < 2:
            raise UserError(
                f"audience {audience!r} has {len(members)} {name} customer(s): at least 2 per group are needed "
                "(set control_share for it in activation.yml)"
            )
    outcomes = {g: _outcome(members) for g, members in groups.items()}
    t, c = outcomes["treatment"], outcomes["control"]
    low, high = confint_proportions_2indep(
        t.buyers, t.customers, c.buyers, c.customers, method="newcomb", compare="diff", alpha=1 - CONFIDENCE
    )
    _, p_rate = proportions_ztest([t.buyers, c.buyers], [t.customers, c.customers])
    revenue = {g: np.array([r for _, r in members]) for g, members in groups.items()}
    compare = CompareMeans(DescrStatsW(revenue["treatment"]), DescrStatsW(revenue["control"]))
    if revenue["treatment"].std() == 0 and revenue["control"].std() == 0:
        revenue_ci: tuple[float | None, float | None] = (None, None)
        p_revenue = None
    else:
        rlow, rhigh = compare.tconfint_diff(alpha=1 - CONFIDENCE, usevar="unequal")
        revenue_ci = (_finite(rlow), _finite(rhigh))
        p_revenue = _finite(compare.ttest_ind(usevar="unequal")[1])
    delivered = 0
    if "activation.sync_state" in tables:
        delivered = con.execute(
            """
            select count(distinct state.customer_id)
            from activation.sync_state as state
            inner join activation.audience_assignments as assigned
                on assigned.audience = state.audience and assigned.customer_id = state.customer_id
            where state.audience = $audience and assigned.assignment_group = 'treatment'
            """,
            {"audience": audience},
        ).fetchone()[0]
    return CampaignEvaluation(
        audience=audience,
        since=since.isoformat(),
        treated=t,
        control=c,
        purchase_rate_difference=t.purchase_rate - c.purchase_rate,
        purchase_rate_ci=(float(low), float(high)),
        purchase_rate_p_value=_finite(p_rate),
        revenue_per_customer_difference=t.revenue_per_customer - c.revenue_per_customer,
        revenue_per_customer_ci=revenue_ci,
        revenue_p_value=p_revenue,
        treated_in_a_destination_now=delivered,
    )


def _outcome(members: list[tuple[bool, float]]) -> GroupOutcome:
    n = len(members)
    buyers = sum(1 for bought, _ in members if bought)
    revenue = float(sum(r for _, r in members))
    return GroupOutcome(n, buyers, buyers / n, revenue, revenue / n)


def write_report(evaluation: CampaignEvaluation, reports: Path) -> tuple[Path, Path]:
    reports.mkdir(parents=True, exist_ok=True)
    base = reports / f"campaign_{evaluation.audience}"
    document = asdict(evaluation) | {"worked": evaluation.worked}
    base.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    t, c = evaluation.treated, evaluation.control
    markdown = [
        f"# Campaign {evaluation.audience}",
        "",
        f"Purchases on and after {evaluation.since}; treated and control customers as assigned by `kith activate`.",
        "",
        "| group | customers | buyers | purchase rate | revenue | revenue per customer |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {name} | {g.customers:,} | {g.buyers:,} | {g.purchase_rate:.2%} | {g.revenue:,.2f} "
            f"| {g.revenue_per_customer:,.2f} |"
            for name, g in (("treated", t), ("control", c))
        ),
        "",
        *(f"- {line.strip()}" for line in evaluation.lines()[3:]),
        f"- treated customers in at least one destination now: {evaluation.treated_in_a_destination_now:,}",
        "",
    ]
    base.with_suffix(".md").write_text("\n".join(markdown))
    return base.with_suffix(".md"), base.with_suffix(".json")


def evaluate_campaign_command(args: argparse.Namespace, paths: Paths) -> int:
    """``kith evaluate campaign AUDIENCE --since DATE``."""
    from kith.console import out
    from pipelines.ingest import open_warehouse

    if args.since is None:
        raise UserError("--since DATE is required: the day the campaign started (YYYY-MM-DD)")
    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith demo` first")
    audience = args.name.removeprefix("aud_")
    con = open_warehouse(paths.warehouse, read_only=True)
    try:
        evaluation = evaluate_campaign(con, audience, args.since)
    finally:
        con.close()
    for line in evaluation.lines():
        out.print(line)
    markdown, document = write_report(evaluation, paths.reports)
    out.print(f"report: {markdown} and {document}")
    return 0
