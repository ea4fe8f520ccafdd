"""The scoring pipeline's stages on per-customer frames: fit, record, score.

The dbt Python models in ``models/intermediate/scoring/`` (and ``benchmarks/scoring_benchmark.py``)
call these in order:

1. ``kith.scoring.features`` builds the point-in-time features in SQL (one row per customer and
   snapshot).
2. ``fit_lifetime_models`` fits BG/NBD and Gamma-Gamma on the features at ``as_of``;
   ``fit_purchase_propensity`` fits the logistic regression on the snapshot one horizon before
   ``as_of`` (outcome: a purchase in the horizon after it), after evaluating the same recipe out of
   time: fitted one horizon earlier still and scored on that snapshot's known outcomes (AUC,
   Brier score, calibration by decile).
3. ``runs_frame`` turns the fits into rows of the model-runs table: parameters, standard errors,
   log-likelihood, customer count, status and, when a fit is impossible, the reason.
4. ``score_customers`` scores every customer at ``as_of`` from those rows: RFM, expected
   purchases, P(alive), expected order value, CLV, margin CLV and purchase propensity. Scores
   whose model could not be fitted are null, with the reason in a column: a tiny sample never
   fails the build.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from kith.scoring import ltv, propensity, recommend, rfm

logger = logging.getLogger(__name__)

BGNBD = "bgnbd"
GAMMA_GAMMA = "gamma_gamma"
PURCHASE_PROPENSITY = "purchase_propensity"
MODEL_NAMES = (BGNBD, GAMMA_GAMMA, PURCHASE_PROPENSITY)

LTV_HORIZONS_DAYS = (90, 365)
CLV_HORIZON_MONTHS = 12

# Features of the propensity model, computed from the point-in-time features by propensity_design.
# Counts and durations are log1p-transformed (long right tails); shares are used as they are.
PROPENSITY_FEATURES = (
    "log_frequency",
    "log_recency_days",
    "log_age",
    "log_average_order_value",
    "orders_last_90_days",
    "return_rate",
    "online_order_share",
    "log_sessions_last_30_days",
    "log_product_views_last_30_days",
    "log_cart_adds_last_30_days",
)
# Below these a logistic regression with ten features is not worth publishing.
MIN_PROPENSITY_OBSERVATIONS = 50
MIN_PROPENSITY_CLASS_SIZE = 10

RUN_COLUMNS = (
    "model_name",
    "as_of_date",
    "fitted_at",
    "status",
    "failure_reason",
    "fit_method",
    "notes",
    "n_customers",
    "log_likelihood",
    "parameters",
    "standard_errors",
    "training_snapshot_date",
    "holdout_snapshot_date",
    "holdout_customer_count",
    "holdout_auc",
    "holdout_brier_score",
    "holdout_base_rate",
    "calibration",
    "details",
)


@dataclass(frozen=True)
class ModelRun:
    """One fit of one model at one ``as_of``: what the model-runs table records.

    ``status`` is ``fitted`` or ``failed``; a failed run has ``failure_reason`` (one line) and no
    parameters. ``parameters`` and ``standard_errors`` map parameter (or term) names to values.
    The holdout fields are set for the propensity model only.
    """

    model_name: str
    as_of_date: date
    status: str
    failure_reason: str | None = None
    fit_method: str | None = None
    notes: str | None = None
    n_customers: int = 0
    log_likelihood: float | None = None
    parameters: dict[str, float] = field(default_factory=dict)
    standard_errors: dict[str, float] = field(default_factory=dict)
    training_snapshot_date: date | None = None
    holdout_snapshot_date: date | None = None
    holdout_customer_count: int | None = None
    holdout_auc: float | None = None
    holdout_brier_score: float | None = None
    holdout_base_rate: float | None = None
    calibration: list[dict[str, float]] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return self.status == "fitted"


def _failed(model_name: str, as_of: date, reason: str, **extra: Any) -> ModelRun:
    return ModelRun(model_name=model_name, as_of_date=as_of, status="failed", failure_reason=reason, **extra)


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class ScoringSettings:
    """The one row of ``dim_scoring_as_of``: the point in time and the scoring vars."""

    as_of: date
    propensity_horizon_days: int = 90
    recommendations_per_customer: int = 5
    recommendation_min_pair_count: int = 2
    clv_annual_discount_rate: float = 0.1


def read_settings(relation: Any) -> ScoringSettings:
    """Settings from a DuckDB relation over ``dim_scoring_as_of`` (one row; column names as the fields)."""
    rows = relation.fetchall()
    if len(rows) != 1:
        raise ValueError(f"dim_scoring_as_of must hold exactly one row, it holds {len(rows)}")
    values = dict(zip(relation.columns, rows[0], strict=True))
    if values.get("as_of_date") is None:
        raise ValueError("no as-of date: the warehouse holds no order or touchpoint yet, so there is nothing to score")
    as_of = values["as_of_date"]
    return ScoringSettings(
        as_of=as_of.date() if isinstance(as_of, datetime) else as_of,
        propensity_horizon_days=int(values["propensity_horizon_days"]),
        recommendations_per_customer=int(values["recommendations_per_customer"]),
        recommendation_min_pair_count=int(values["recommendation_min_pair_count"]),
        clv_annual_discount_rate=float(values["clv_annual_discount_rate"]),
    )


# Feature columns the fits read (the scores read every column of the as-of snapshot).
FIT_COLUMNS = (
    "customer_id",
    "snapshot_date",
    "frequency",
    "recency",
    "age",
    "recency_days",
    "monetary_value",
    "average_order_value",
    "orders_last_90_days",
    "return_rate",
    "online_order_share",
    "sessions_last_30_days",
    "product_views_last_30_days",
    "cart_adds_last_30_days",
    "future_purchase_days",
)


def fit_all(snapshots: Mapping[int, pd.DataFrame], as_of: date, horizon_days: int) -> list[ModelRun]:
    """Every model of one build: BG/NBD and Gamma-Gamma at ``as_of`` (key 0), propensity from keys 2 and 1.

    ``snapshots`` maps ``horizons_before_as_of`` to that snapshot's features.
    """
    bgnbd, gamma_gamma = fit_lifetime_models(snapshots[0], as_of)
    purchase = fit_purchase_propensity(snapshots[2], snapshots[1], as_of, horizon_days)
    return [bgnbd, gamma_gamma, purchase]


# --------------------------------------------------------------------------------------------
# lifetime value


def fit_lifetime_models(summary: pd.DataFrame, as_of: date) -> tuple[ModelRun, ModelRun]:
    """Fit BG/NBD (all customers) and Gamma-Gamma (repeat customers) on the features at ``as_of``.

    ``summary`` has the ``kith.scoring.features`` columns (``frequency``, ``recency``, ``age`` in
    days, ``monetary_value``). A fit the data cannot support (too few customers, no repeat buyers,
    no convergence) gives a ``failed`` run with the reason instead of an exception.
    """
    return fit_bgnbd_run(summary, as_of), fit_gamma_gamma_run(summary, as_of)


def fit_bgnbd_run(summary: pd.DataFrame, as_of: date) -> ModelRun:
    """The BG/NBD half of ``fit_lifetime_models``."""
    x = summary["frequency"].to_numpy(dtype=float)
    try:
        fit = ltv.fit_bgnbd(x, summary["recency"].to_numpy(dtype=float), summary["age"].to_numpy(dtype=float))
    except ltv.InsufficientDataError as error:
        return _failed(BGNBD, as_of, str(error), n_customers=len(summary), training_snapshot_date=as_of)
    return _fitted_run(BGNBD, as_of, fit)


def fit_gamma_gamma_run(summary: pd.DataFrame, as_of: date) -> ModelRun:
    """The Gamma-Gamma half of ``fit_lifetime_models``; q <= 1 (infinite mean spend) counts as a failure."""
    x = summary["frequency"].to_numpy(dtype=float)
    monetary = summary["monetary_value"].to_numpy(dtype=float, na_value=np.nan)
    try:
        fit = ltv.fit_gamma_gamma(x, monetary)
    except ltv.InsufficientDataError as error:
        return _failed(
            GAMMA_GAMMA, as_of, str(error), n_customers=int(np.count_nonzero(x > 0)), training_snapshot_date=as_of
        )
    if fit.params["q"] <= 1:
        return _failed(
            GAMMA_GAMMA,
            as_of,
            f"Gamma-Gamma q = {fit.params['q']:.3g} <= 1: the population mean order value is infinite",
            n_customers=fit.n_customers,
            log_likelihood=fit.log_likelihood,
            training_snapshot_date=as_of,
        )
    return _fitted_run(GAMMA_GAMMA, as_of, fit)


def _fitted_run(model_name: str, as_of: date, fit: ltv.FitResult) -> ModelRun:
    return ModelRun(
        model_name=model_name,
        as_of_date=as_of,
        status="fitted",
        fit_method="mle",
        notes=fit.message,
        n_customers=fit.n_customers,
        log_likelihood=fit.log_likelihood,
        parameters=dict(fit.params),
        standard_errors=dict(fit.standard_errors),
        training_snapshot_date=as_of,
        details=dict(fit.details),
    )


# --------------------------------------------------------------------------------------------
# propensity


def propensity_design(features: pd.DataFrame) -> pd.DataFrame:
    """The propensity model's feature columns (``PROPENSITY_FEATURES``) from the point-in-time features."""
    design = pd.DataFrame(index=features.index)
    for column in (
        "frequency",
        "recency_days",
        "age",
        "average_order_value",
        "sessions_last_30_days",
        "product_views_last_30_days",
        "cart_adds_last_30_days",
    ):
        values = features[column].to_numpy(dtype=float)
        design[f"log_{column}"] = np.log1p(np.clip(values, 0, None))
    for column in ("orders_last_90_days", "return_rate", "online_order_share"):
        design[column] = features[column].to_numpy(dtype=float)
    return design.loc[:, list(PROPENSITY_FEATURES)]


def _outcome(features: pd.DataFrame) -> np.ndarray:
    return (features["future_purchase_days"].to_numpy(dtype=float, na_value=np.nan) > 0).astype(float)


def _check_labelled(features: pd.DataFrame, what: str) -> None:
    if features["future_purchase_days"].isna().any():
        raise ValueError(f"{what} snapshot has no outcome window")
    y = _outcome(features)
    n_positive = int(y.sum())
    n_negative = int(y.size - n_positive)
    if y.size < MIN_PROPENSITY_OBSERVATIONS:
        raise propensity.PropensityFitError(
            f"{what}: {y.size} customers, the propensity model needs at least {MIN_PROPENSITY_OBSERVATIONS}"
        )
    if min(n_positive, n_negative) < MIN_PROPENSITY_CLASS_SIZE:
        raise propensity.PropensityFitError(
            f"{what}: {n_positive} customers bought in the horizon and {n_negative} did not; "
            f"the propensity model needs at least {MIN_PROPENSITY_CLASS_SIZE} of each"
        )


def _fit(features: pd.DataFrame, what: str) -> tuple[propensity.PropensityModel, list[str]]:
    """Fit on a labelled snapshot; features constant in it are dropped (named in the second value)."""
    _check_labelled(features, what)
    design = propensity_design(features)
    constant = [column for column in design.columns if design[column].nunique(dropna=False) <= 1]
    model = propensity.fit_propensity(design.drop(columns=constant), _outcome(features))
    return model, constant


def _log_likelihood(model: propensity.PropensityModel, features: pd.DataFrame) -> float:
    y = _outcome(features)
    logit = propensity_design(features).loc[:, list(model.feature_names)].to_numpy(dtype=float) @ model.params[1:]
    logit += model.params[0]
    # log p = -log(1 + e^-z), log(1 - p) = -log(1 + e^z)
    return float(-np.sum(y * np.logaddexp(0, -logit) + (1 - y) * np.logaddexp(0, logit)))


def fit_purchase_propensity(
    training: pd.DataFrame,
    evaluation: pd.DataFrame,
    as_of: date,
    horizon_days: int,
    *,
    n_bins: int = 10,
) -> ModelRun:
    """Evaluate out of time, then fit the propensity model that scores ``as_of``.

    Args:
        training: features two horizons before ``as_of`` with their outcome one horizon later.
        evaluation: features one horizon before ``as_of`` with their outcome up to ``as_of``.
        as_of: the day the model will score.
        horizon_days: the outcome window (a purchase within this many days).
        n_bins: calibration bins (deciles).

    The model fitted on ``training`` is scored on ``evaluation`` (customers and outcomes it never
    saw, one horizon later: the out-of-time holdout); then the same recipe is refitted on
    ``evaluation``, the most recent labelled snapshot, and that fit is the one recorded and used.
    """
    training_date = _snapshot_date(evaluation)
    holdout_date = _snapshot_date(evaluation)
    details: dict[str, Any] = {"horizon_days": int(horizon_days)}
    try:
        final, dropped = _fit(evaluation, f"snapshot {holdout_date}")
    except propensity.PropensityFitError as error:
        return _failed(
            PURCHASE_PROPENSITY,
            as_of,
            str(error),
            n_customers=len(evaluation),
            training_snapshot_date=training_date,
            details=details,
        )
    notes = [final.message]
    if dropped:
        notes.append(f"constant feature(s) left out: {', '.join(dropped)}")
    holdout: dict[str, Any] = {}
    try:
        earlier, _ = _fit(training, f"holdout training snapshot {_snapshot_date(training)}")
        y = _outcome(evaluation)
        if y.min() == y.max():
            raise propensity.PropensityFitError("holdout outcomes have a single class")
        result = propensity.evaluate_propensity(earlier, propensity_design(evaluation), y, n_bins=n_bins)
        holdout = {
            "holdout_snapshot_date": holdout_date,
            "holdout_customer_count": result.n_observations,
            "holdout_auc": result.auc,
            "holdout_brier_score": result.brier,
            "holdout_base_rate": result.base_rate,
            "calibration": result.calibration.to_dict(orient="records"),
        }
        details["holdout_training_snapshot_date"] = str(_snapshot_date(training))
    except propensity.PropensityFitError as error:
        notes.append(f"holdout evaluation skipped: {error}")
    table = final.coefficients
    details["z_values"] = dict(zip(table["term"], table["z_value"].astype(float), strict=True))
    details["p_values"] = dict(zip(table["term"], table["p_value"].astype(float), strict=True))
    details["base_rate"] = float(_outcome(evaluation).mean())
    return ModelRun(
        model_name=PURCHASE_PROPENSITY,
        as_of_date=as_of,
        status="fitted",
        fit_method=final.method,
        notes="; ".join(notes),
        n_customers=final.n_observations,
        log_likelihood=_log_likelihood(final, evaluation),
        parameters=dict(zip(table["term"], table["coefficient"].astype(float), strict=True)),
        standard_errors=dict(zip(table["term"], table["std_error"].astype(float), strict=True)),
        training_snapshot_date=training_date,
        details=details,
        **holdout,
    )


def _snapshot_date(features: pd.DataFrame) -> date | None:
    if features.empty:
        return None
    return pd.Timestamp(features["snapshot_date"].iloc[0]).date()


def propensity_model_from_run(run: Mapping[str, Any] | ModelRun) -> propensity.PropensityModel:
    """Rebuild a fitted propensity model from its model-runs row (or ``ModelRun``)."""
    parameters = _mapping(run.parameters if isinstance(run, ModelRun) else run["parameters"])
    errors = _mapping(run.standard_errors if isinstance(run, ModelRun) else run["standard_errors"])
    terms = list(parameters)
    if not terms or terms[0] != propensity.INTERCEPT:
        raise ValueError("propensity parameters must start with the intercept")
    unknown = [term for term in terms[1:] if term not in PROPENSITY_FEATURES]
    if unknown:
        raise ValueError(f"unknown propensity term(s): {', '.join(unknown)}")
    table = pd.DataFrame(
        {
            "term": terms,
            "coefficient": [float(parameters[t]) for t in terms],
            "std_error": [np.nan if errors.get(t) is None else float(errors[t]) for t in terms],
        }
    )
    return propensity.PropensityModel(tuple(terms[1:]), table, "stored", 0, True, "rebuilt from the runs table")


# --------------------------------------------------------------------------------------------
# the runs table


def _json(value: Any) -> str | None:
    if value is None:
        return None

    def clean(item: Any) -> Any:
        if isinstance(item, Mapping):
            return {str(k): clean(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [clean(v) for v in item]
        if isinstance(item, np.integer):
            return int(item)
        if isinstance(item, float | np.floating):
            return _finite_or_none(float(item))
        return item

    return json.dumps(clean(value), sort_keys=False, separators=(",", ":"))


def _mapping(value: Any) -> dict[str, Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return dict(value)


def runs_frame(runs: Sequence[ModelRun], fitted_at: datetime) -> pd.DataFrame:
    """The model-runs rows (``RUN_COLUMNS``); dictionaries and lists become JSON text, NaN becomes null."""
    rows = []
    for run in runs:
        rows.append(
            {
                "model_name": run.model_name,
                "as_of_date": run.as_of_date,
                "fitted_at": fitted_at,
                "status": run.status,
                "failure_reason": run.failure_reason,
                "fit_method": run.fit_method,
                "notes": run.notes,
                "n_customers": int(run.n_customers),
                "log_likelihood": _finite_or_none(run.log_likelihood),
                "parameters": _json(run.parameters) if run.fitted else None,
                "standard_errors": _json(run.standard_errors) if run.fitted else None,
                "training_snapshot_date": run.training_snapshot_date,
                "holdout_snapshot_date": run.holdout_snapshot_date,
                "holdout_customer_count": run.holdout_customer_count,
                "holdout_auc": _finite_or_none(run.holdout_auc),
                "holdout_brier_score": _finite_or_none(run.holdout_brier_score),
                "holdout_base_rate": _finite_or_none(run.holdout_base_rate),
                "calibration": _json(run.calibration),
                "details": _json(run.details),
            }
        )
    frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    for column in ("as_of_date", "training_snapshot_date", "holdout_snapshot_date"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["fitted_at"] = pd.to_datetime(frame["fitted_at"]).astype("datetime64[us]")
    frame["holdout_customer_count"] = frame["holdout_customer_count"].astype("Int64")
    for column in ("model_name", "status", "failure_reason", "fit_method", "notes", "parameters", "standard_errors"):
        frame[column] = frame[column].astype("string")  # typed even when every value is null
    for column in ("calibration", "details"):
        frame[column] = frame[column].astype("string")
    for column in ("log_likelihood", "holdout_auc", "holdout_brier_score", "holdout_base_rate"):
        frame[column] = frame[column].astype("float64")
    return frame


def _run_row(runs: pd.DataFrame, model_name: str) -> Mapping[str, Any] | None:
    rows = runs[runs["model_name"] == model_name]
    if len(rows) != 1:
        return None
    return rows.iloc[0].to_dict()


def _unavailable(row: Mapping[str, Any] | None, model_name: str) -> str | None:
    """Why a model's scores are missing (None when it was fitted)."""
    if row is None:
        return f"{model_name} was not fitted in this build"
    if row["status"] != "fitted":
        reason = str(row["failure_reason"])
        return reason if reason.startswith(f"{model_name} fit failed") else f"{model_name} fit failed: {reason}"
    return None


# --------------------------------------------------------------------------------------------
# scores


SCORE_COLUMNS = (
    "customer_id",
    "as_of_date",
    "first_purchase_date",
    "last_purchase_date",
    "order_count",
    "purchase_day_count",
    "recency_days",
    "paid_amount",
    "net_amount",
    "margin_rate",
    "return_rate",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm_cell",
    "rfm_segment",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "probability_alive",
    "expected_order_value",
    "lifetime_value_12m",
    "margin_lifetime_value_12m",
    "lifetime_value_missing_reason",
    "purchase_propensity",
    "propensity_missing_reason",
)


def score_customers(
    summary: pd.DataFrame,
    runs: pd.DataFrame,
    as_of: date,
    *,
    annual_discount_rate: float = 0.1,
) -> pd.DataFrame:
    """Every score of every customer in ``summary`` (the features at ``as_of``), from the fitted runs.

    RFM: ``recency_days``, ``order_count`` and ``net_amount`` (spend after returns) scored 1-5
    (``kith.scoring.rfm``). LTV: ``ltv.score_lifetime_value`` with the BG/NBD and Gamma-Gamma
    parameters of ``runs`` (12-month CLV discounted at ``annual_discount_rate``); the margin CLV
    uses each customer's margin rate (the population's when none of their orders has a known
    cost) and return rate. Propensity: the stored logistic regression applied to the features.
    Columns whose model failed are null and the ``*_missing_reason`` column says why.
    """
    out = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy()})
    out["as_of_date"] = pd.Timestamp(as_of).as_unit("us")
    for column in (
        "first_purchase_date",
        "last_purchase_date",
        "order_count",
        "purchase_day_count",
        "recency_days",
        "paid_amount",
        "net_amount",
        "return_rate",
    ):
        out[column] = summary[column].to_numpy()
    margin_rate = _margin_rates(summary)
    out["margin_rate"] = margin_rate

    scores = rfm.score_rfm(
        pd.DataFrame(
            {
                "customer_id": summary["customer_id"].to_numpy(),
                "recency_days": summary["recency_days"].to_numpy(dtype=float),
                "frequency": summary["order_count"].to_numpy(dtype=float),
                "monetary": summary["net_amount"].to_numpy(dtype=float),
            }
        )
    )
    for column in ("recency_score", "frequency_score", "monetary_score", "rfm_cell", "rfm_segment"):
        out[column] = scores[column].to_numpy()

    _add_lifetime_value(out, summary, runs, margin_rate, annual_discount_rate)
    _null_non_finite_lifetime_values(out)
    _add_propensity(out, summary, runs)
    for column in ("lifetime_value_missing_reason", "propensity_missing_reason"):
        out[column] = out[column].astype("string")  # typed even when every value is null
    return out.loc[:, list(SCORE_COLUMNS)]


def _margin_rates(summary: pd.DataFrame) -> np.ndarray:
    """Each customer's margin rate; the paid-weighted population rate where a customer has none."""
    rate = summary["margin_rate"].to_numpy(dtype=float, na_value=np.nan)
    paid = summary["paid_amount"].to_numpy(dtype=float)
    known = np.isfinite(rate) & (paid > 0)
    if not known.any():
        return rate
    population = float(np.clip(np.dot(rate[known], paid[known]) / paid[known].sum(), 0, 1))
    return np.where(np.isfinite(rate), rate, population)


def _add_lifetime_value(
    out: pd.DataFrame,
    summary: pd.DataFrame,
    runs: pd.DataFrame,
    margin_rate: np.ndarray,
    annual_discount_rate: float,
) -> None:
    columns = [f"expected_purchases_{d}d" for d in LTV_HORIZONS_DAYS]
    value_columns = ["expected_order_value", "lifetime_value_12m", "margin_lifetime_value_12m"]
    for column in [*columns, "probability_alive", *value_columns]:
        out[column] = np.nan
    out["lifetime_value_missing_reason"] = None
    bgnbd_row, gg_row = _run_row(runs, BGNBD), _run_row(runs, GAMMA_GAMMA)
    reason = _unavailable(bgnbd_row, BGNBD)
    if reason is None and len(summary):
        params = _mapping(bgnbd_row["parameters"])
        x = summary["frequency"].to_numpy(dtype=float)
        t_x = summary["recency"].to_numpy(dtype=float)
        age = summary["age"].to_numpy(dtype=float)
        for days, column in zip(LTV_HORIZONS_DAYS, columns, strict=True):
            out[column] = ltv.bgnbd_expected_purchases(params, float(days), x, t_x, age)
        out["probability_alive"] = ltv.bgnbd_probability_alive(params, x, t_x, age)
        reason = _unavailable(gg_row, GAMMA_GAMMA)
        if reason is None:
            spend = _mapping(gg_row["parameters"])
            monetary = summary["monetary_value"].to_numpy(dtype=float, na_value=np.nan)
            order_value = ltv.gamma_gamma_expected_order_value(spend, x, monetary)
            clv = ltv.customer_lifetime_value(
                params,
                x,
                t_x,
                age,
                order_value,
                horizon_months=CLV_HORIZON_MONTHS,
                annual_rate=annual_discount_rate,
            )
            out["expected_order_value"] = order_value
            out["lifetime_value_12m"] = clv
            known = np.isfinite(margin_rate)
            return_rate = summary["return_rate"].to_numpy(dtype=float)
            margin_value = np.full(len(summary), np.nan)
            margin_value[known] = clv[known] * margin_rate[known] * (1 - return_rate[known])
            out["margin_lifetime_value_12m"] = margin_value
            if not known.all():
                out.loc[~known, "lifetime_value_missing_reason"] = "no order with a known cost: margin CLV unknown"
            return
        reason += "; expected purchases and P(alive) are available"
    if reason is not None:
        out["lifetime_value_missing_reason"] = reason


def _null_non_finite_lifetime_values(out: pd.DataFrame) -> None:
    """A customer whose expectations came out NaN or infinite gets null LTV columns and a reason, not a bad number."""
    columns = [f"expected_purchases_{d}d" for d in LTV_HORIZONS_DAYS] + [
        "probability_alive",
        "expected_order_value",
        "lifetime_value_12m",
    ]
    values = out[columns].to_numpy(dtype=float)
    computed = out["lifetime_value_missing_reason"].isna().to_numpy()
    broken = computed & ~np.isfinite(values).all(axis=1)
    if broken.any():
        logger.warning("%d customer(s) got non-finite lifetime values; their LTV columns are null", broken.sum())
        out.loc[broken, [*columns, "margin_lifetime_value_12m"]] = np.nan
        out.loc[broken, "lifetime_value_missing_reason"] = (
            "numerical failure: a non-finite expectation for this customer"
        )


def _add_propensity(out: pd.DataFrame, summary: pd.DataFrame, runs: pd.DataFrame) -> None:
    row = _run_row(runs, PURCHASE_PROPENSITY)
    reason = _unavailable(row, PURCHASE_PROPENSITY)
    out["purchase_propensity"] = np.nan
    out["propensity_missing_reason"] = reason
    if reason is None and len(summary):
        model = propensity_model_from_run(row)
        design = propensity_design(summary)
        logit = design.loc[:, list(model.feature_names)].to_numpy(dtype=float) @ model.params[1:] + model.params[0]
        out["purchase_propensity"] = special.expit(logit)


# --------------------------------------------------------------------------------------------
# products and categories

RECOMMENDATION_COLUMNS = ("customer_id", "sku", "score", "recommendation_rank")
RECOMMENDATION_MAX_NEIGHBOURS = 50


def recommend_in_stock(
    purchases: pd.DataFrame,
    in_stock: Iterable[str],
    *,
    n: int,
    min_pair_count: int,
    max_neighbours: int = RECOMMENDATION_MAX_NEIGHBOURS,
) -> pd.DataFrame:
    """Top-``n`` SKUs per customer from customer-level co-purchase lift, in stock and not yet bought.

    ``purchases`` holds distinct ``customer_id, sku`` (``features.customer_items_sql``): a basket
    is a customer's whole history ("customers who bought A also bought B"), pairs bought by fewer
    than ``min_pair_count`` customers are ignored, and each SKU keeps its ``max_neighbours``
    strongest partners. Only SKUs in ``in_stock`` can be recommended (anything else, including a
    SKU missing from the inventory, counts as out of stock); a customer's own SKUs never are.
    """
    pairs = recommend.pair_lift(
        purchases, basket_column="customer_id", item_column="sku", min_pair_count=min_pair_count
    )
    stocked = set(in_stock)
    out_of_stock = {sku for sku in pd.unique(purchases["sku"]) if sku not in stocked}
    ranked = recommend.recommend_items(
        purchases,
        pairs,
        customer_column="customer_id",
        item_column="sku",
        n=n,
        out_of_stock=out_of_stock,
        max_neighbours=max_neighbours,
    )
    return pd.DataFrame(
        {
            "customer_id": ranked["customer_id"].astype("str").to_numpy(),
            "sku": ranked["sku"].astype("str").to_numpy(),
            "score": ranked["score"].astype("float64").to_numpy(),
            "recommendation_rank": ranked["rank"].astype("int64").to_numpy(),
        },
        columns=list(RECOMMENDATION_COLUMNS),
    )


def category_affinities(spend: pd.DataFrame) -> pd.DataFrame:
    """Spend share and affinity index per (customer, category) from ``features.category_spend_sql`` rows."""
    table = recommend.category_affinity(spend, customer_column="customer_id", category_column="category")
    return table.astype(
        {"customer_id": "str", "category": "str", "spend": "float64", "spend_share": "float64"}
    ).reset_index(drop=True)


def category_pair_associations(baskets: pd.DataFrame) -> pd.DataFrame:
    """Support, confidence and lift of every ordered category pair over order baskets (``order_id, category``)."""
    pairs = recommend.category_pair_summary(baskets, basket_column="order_id", category_column="category")
    return pairs.rename(columns={"antecedent": "antecedent_category", "consequent": "consequent_category"}).astype(
        {"antecedent_category": "str", "consequent_category": "str"}
    )
