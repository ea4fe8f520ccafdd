"""Holdout evaluation of the lifetime-value models: ``kith evaluate ltv [--as-of DATE]``.

The calibration/holdout comparison of Fader, Hardie & Lee (2005, section 5): BG/NBD and
Gamma-Gamma are fitted on the purchases up to ``as_of`` (the calibration period, with the same
point-in-time features as the scores, ``kith.scoring.features``); for every customer of the
calibration period the model predicts the purchase days in the holdout period ``(as_of, end]``
(``end`` = the latest order day in the warehouse) and that is compared with what the customer
actually did. Reported:

- aggregate: predicted and actual purchase days over all customers, and their relative error;
- per customer: mean absolute error, root mean squared error, correlation, next to a naive
  baseline that extrapolates each customer's own calibration rate (``x / T * holdout days``);
- conditional expectations by calibration frequency x = 0 .. 6 and 7+ (the paper's Figure 4):
  mean actual and mean predicted holdout purchase days per group;
- spend: predicted holdout spend (expected purchases x Gamma-Gamma expected order value) against
  the actual paid amount, when Gamma-Gamma can be fitted.

Default ``as_of``: the latest order day minus 90 days. The holdout is then exactly the 90-day
horizon that ``dim_customer_scores.expected_purchases_90d`` publishes, and with the sample's year
of data the calibration period (about nine months) stays long enough for repeat purchases to
identify the dropout process. Pass an earlier ``--as-of`` for a longer holdout.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kith.scoring import features, ltv

DEFAULT_HOLDOUT_DAYS = 90
FREQUENCY_GROUPS = 7  # x = 0 .. 6 and "7+"
REPORT_NAME = "ltv_holdout"


@dataclass(frozen=True)
class FrequencyGroup:
    """Customers with one calibration frequency (or ``7+``): mean actual vs mean predicted holdout purchases."""

    frequency: str
    customers: int
    mean_actual: float
    mean_predicted: float


@dataclass(frozen=True)
class HoldoutEvaluation:
    """The calibration/holdout comparison (definitions in the module docstring)."""

    as_of: date
    holdout_end: date
    holdout_days: int
    customers: int
    repeat_customers: int
    bgnbd_parameters: dict[str, float]
    bgnbd_log_likelihood: float
    actual_purchases: float
    predicted_purchases: float
    aggregate_relative_error: float
    mean_absolute_error: float
    root_mean_squared_error: float
    correlation: float
    baseline_mean_absolute_error: float
    by_frequency: list[FrequencyGroup]
    gamma_gamma_parameters: dict[str, float] | None = None
    gamma_gamma_note: str | None = None
    actual_spend: float | None = None
    predicted_spend: float | None = None
    spend_relative_error: float | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        r, alpha, a, b = (self.bgnbd_parameters[k] for k in ltv.BGNBD_PARAMS)
        out = [
            f"calibration: purchases up to {self.as_of}; holdout: {self.holdout_days} days to {self.holdout_end}",
            f"customers: {self.customers:,} ({self.repeat_customers:,} with a repeat purchase in calibration)",
            f"BG/NBD (days): r={r:.4g} alpha={alpha:.4g} a={a:.4g} b={b:.4g}, "
            f"log-likelihood {self.bgnbd_log_likelihood:,.1f}",
            f"holdout purchase days: actual {self.actual_purchases:,.0f}, predicted {self.predicted_purchases:,.1f} "
            f"({self.aggregate_relative_error:+.1%})",
            f"per customer: MAE {self.mean_absolute_error:.3f} (naive calibration-rate baseline "
            f"{self.baseline_mean_absolute_error:.3f}), RMSE {self.root_mean_squared_error:.3f}, "
            f"correlation {self.correlation:.3f}",
        ]
        if self.predicted_spend is not None:
            out.append(
                f"holdout spend: actual {self.actual_spend:,.2f}, predicted {self.predicted_spend:,.2f} "
                f"({self.spend_relative_error:+.1%})"
            )
        elif self.gamma_gamma_note:
            out.append(f"holdout spend not predicted: {self.gamma_gamma_note}")
        out.extend(self.notes)
        return out

    def to_json(self) -> dict[str, Any]:
        def clean(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [clean(v) for v in value]
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return value

        return clean(asdict(self))


def compare_holdout(
    calibration: pd.DataFrame,
    as_of: date,
    holdout_end: date,
) -> HoldoutEvaluation:
    """Fit on ``calibration`` and compare predictions with its holdout outcome.

    ``calibration`` has the ``kith.scoring.features`` columns of a snapshot at ``as_of`` whose
    outcome window ends at ``holdout_end``: ``frequency, recency, age, monetary_value`` (days)
    and ``future_purchase_days, future_paid_amount``. Raises ``ltv.InsufficientDataError`` when
    BG/NBD cannot be fitted (a Gamma-Gamma failure only drops the spend comparison).
    """
    holdout_days = (holdout_end - as_of).days
    if holdout_days < 1:
        raise ValueError("the holdout period must end after the calibration period")
    x = calibration["frequency"].to_numpy(dtype=float)
    t_x = calibration["recency"].to_numpy(dtype=float)
    age = calibration["age"].to_numpy(dtype=float)
    actual = calibration["future_purchase_days"].to_numpy(dtype=float)
    bgnbd = ltv.fit_bgnbd(x, t_x, age)
    predicted = ltv.bgnbd_expected_purchases(bgnbd, float(holdout_days), x, t_x, age)
    baseline = np.where(age > 0, x / np.where(age > 0, age, 1.0) * holdout_days, 0.0)
    error = predicted - actual
    correlation = (
        float(np.corrcoef(predicted, actual)[0, 1]) if np.ptp(predicted) > 0 and np.ptp(actual) > 0 else math.nan
    )

    groups = []
    bucket = np.minimum(x, FREQUENCY_GROUPS).astype(int)
    for value in range(FREQUENCY_GROUPS + 1):
        members = bucket == value
        if members.any():
            groups.append(
                FrequencyGroup(
                    frequency=str(value) if value < FREQUENCY_GROUPS else f"{FREQUENCY_GROUPS}+",
                    customers=int(members.sum()),
                    mean_actual=float(actual[members].mean()),
                    mean_predicted=float(predicted[members].mean()),
                )
            )

    spend: dict[str, Any] = {}
    monetary = calibration["monetary_value"].to_numpy(dtype=float, na_value=np.nan)
    try:
        gamma_gamma = ltv.fit_gamma_gamma(x, monetary)
        if gamma_gamma.params["q"] <= 1:
            raise ltv.InsufficientDataError(f"Gamma-Gamma q = {gamma_gamma.params['q']:.3g} <= 1")
        order_value = ltv.gamma_gamma_expected_order_value(gamma_gamma, x, monetary)
        actual_spend = float(calibration["future_paid_amount"].to_numpy(dtype=float).sum())
        predicted_spend = float(np.dot(predicted, order_value))
        spend = {
            "gamma_gamma_parameters": dict(gamma_gamma.params),
            "actual_spend": actual_spend,
            "predicted_spend": predicted_spend,
            "spend_relative_error": predicted_spend / actual_spend - 1 if actual_spend > 0 else math.nan,
        }
    except ltv.InsufficientDataError as reason:
        spend = {"gamma_gamma_note": str(reason)}

    total_actual = float(actual.sum())
    total_predicted = float(predicted.sum())
    return HoldoutEvaluation(
        as_of=as_of,
        holdout_end=holdout_end,
        holdout_days=holdout_days,
        customers=int(x.size),
        repeat_customers=int(np.count_nonzero(x > 0)),
        bgnbd_parameters=dict(bgnbd.params),
        bgnbd_log_likelihood=bgnbd.log_likelihood,
        actual_purchases=total_actual,
        predicted_purchases=total_predicted,
        aggregate_relative_error=total_predicted / total_actual - 1 if total_actual > 0 else math.nan,
        mean_absolute_error=float(np.mean(np.abs(error))),
        root_mean_squared_error=float(np.sqrt(np.mean(error**2))),
        correlation=correlation,
        baseline_mean_absolute_error=float(np.mean(np.abs(baseline - actual))),
        by_frequency=groups,
        **spend,
    )


def evaluate_ltv_holdout(
    con: Any,
    as_of: date | None = None,
    *,
    orders: str = "marts.fct_orders",
    holdout_days: int = DEFAULT_HOLDOUT_DAYS,
) -> HoldoutEvaluation:
    """Run the evaluation on a warehouse connection (read-only is enough).

    ``as_of`` defaults to the latest order day minus ``holdout_days``; the holdout always ends on
    the latest order day. Raises ``ValueError`` for an ``as_of`` that leaves no calibration or
    no holdout period and ``ltv.InsufficientDataError`` when BG/NBD cannot be fitted.
    """
    end = features.data_end_date(con, orders)
    if end is None:
        raise ValueError(f"{orders} holds no orders: nothing to evaluate")
    as_of = as_of or end - timedelta(days=holdout_days)
    if as_of >= end:
        raise ValueError(f"--as-of {as_of} leaves no holdout period: the latest order is on {end}")
    snapshot = features.Snapshot(as_of, end)
    calibration = features.customer_features(con, orders, snapshot).df()
    if calibration.empty:
        raise ValueError(f"no purchases on or before {as_of}: choose a later --as-of (the latest order is on {end})")
    try:
        return compare_holdout(calibration, as_of, end)
    except ltv.InsufficientDataError as error:
        raise ltv.InsufficientDataError(
            f"cannot fit BG/NBD on the {len(calibration):,} customers with purchases up to {as_of}: {error}"
        ) from None


def write_report(evaluation: HoldoutEvaluation, reports: Path) -> tuple[Path, Path]:
    """Write ``ltv_holdout.json`` and ``ltv_holdout.md`` into ``reports``; returns both paths."""
    reports.mkdir(parents=True, exist_ok=True)
    json_path = reports / f"{REPORT_NAME}.json"
    json_path.write_text(json.dumps(evaluation.to_json(), indent=2) + "\n")
    md_path = reports / f"{REPORT_NAME}.md"
    rows = "\n".join(
        f"| {g.frequency} | {g.customers:,} | {g.mean_actual:.3f} | {g.mean_predicted:.3f} |"
        for g in evaluation.by_frequency
    )
    summary = "\n".join(f"- {line}" for line in evaluation.lines())
    md_path.write_text(
        "# Lifetime value: calibration / holdout evaluation\n\n"
        f"{summary}\n\n"
        "## Conditional expectations by calibration frequency\n\n"
        "Mean holdout purchase days per customer, grouped by repeat purchase days in calibration "
        "(Fader, Hardie & Lee 2005, Figure 4).\n\n"
        "| repeat purchase days (x) | customers | actual | predicted |\n"
        "|---|---:|---:|---:|\n"
        f"{rows}\n\n"
        "Reproduce: `kith evaluate ltv"
        f" --as-of {evaluation.as_of}` on the same warehouse.\n"
    )
    return json_path, md_path


def evaluate_ltv_command(args: argparse.Namespace, paths: Any) -> int:
    """``kith evaluate ltv [--as-of DATE]``: print the evaluation and write ``<reports>/ltv_holdout.{json,md}``."""
    from kith.config import UserError
    from kith.console import out
    from pipelines.ingest import open_warehouse

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith demo` (or ingest and build) first")
    con = open_warehouse(paths.warehouse, read_only=True)
    try:
        present = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'fct_orders'"
        ).fetchall()[0][0]
        if not present:
            raise UserError(f"warehouse {paths.warehouse} has no marts.fct_orders: run `kith build` first")
        try:
            evaluation = evaluate_ltv_holdout(con, getattr(args, "as_of", None))
        except ValueError as error:  # includes InsufficientDataError: the data cannot support a fit
            raise UserError(str(error)) from None
    finally:
        con.close()
    for line in evaluation.lines():
        out.print(line)
    out.print("mean holdout purchase days by calibration repeat purchase days (x: actual / predicted):")
    out.print(
        "  " + "  ".join(f"{g.frequency}: {g.mean_actual:.2f}/{g.mean_predicted:.2f}" for g in evaluation.by_frequency)
    )
    json_path, md_path = write_report(evaluation, paths.reports)
    out.print(f"report: {json_path} and {md_path}")
    return 0
