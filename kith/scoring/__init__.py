"""Customer scoring: pure functions on per-customer pandas frames and numpy arrays.

dbt Python models (``models/marts/scores/``) pull aggregated data from DuckDB and call these; all
logic lives (and is tested) here.

- ``features``: the point-in-time per-customer features, as SQL run by DuckDB.
- ``rfm``: RFM quintile scores and segment names.
- ``ltv``: BG/NBD and Gamma-Gamma fits, expected purchases, P(alive), expected order value, CLV.
- ``propensity``: logistic-regression purchase propensity with AUC, Brier score, calibration.
- ``recommend``: co-purchase lift, top-N recommendations, category affinity, category pairs.
- ``pipeline``: the stages the dbt models run (fits, the model-runs rows, scores, recommendations).
- ``holdout``: ``kith evaluate ltv``, the calibration/holdout evaluation of lifetime value.
- ``synthetic``: order, line, touchpoint and stock tables drawn from BG/NBD (tests, benchmark).
"""

from kith.scoring.ltv import (
    FitResult,
    InsufficientDataError,
    bgnbd_expected_purchases,
    bgnbd_log_likelihood,
    bgnbd_population_expected_purchases,
    bgnbd_probability_alive,
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_order_value,
    gamma_gamma_log_likelihood,
    margin_lifetime_value,
    monthly_discount_rate,
    score_lifetime_value,
)
from kith.scoring.propensity import (
    PropensityEvaluation,
    PropensityFitError,
    PropensityModel,
    auc_score,
    brier_score,
    calibration_table,
    evaluate_propensity,
    fit_propensity,
)
from kith.scoring.recommend import category_affinity, category_pair_summary, pair_lift, recommend_items
from kith.scoring.rfm import SEGMENTS, quintile_scores, rfm_segment, score_rfm

__all__ = [
    "SEGMENTS",
    "FitResult",
    "InsufficientDataError",
    "PropensityEvaluation",
    "PropensityFitError",
    "PropensityModel",
    "auc_score",
    "bgnbd_expected_purchases",
    "bgnbd_log_likelihood",
    "bgnbd_population_expected_purchases",
    "bgnbd_probability_alive",
    "brier_score",
    "calibration_table",
    "category_affinity",
    "category_pair_summary",
    "customer_lifetime_value",
    "evaluate_propensity",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_propensity",
    "gamma_gamma_expected_order_value",
    "gamma_gamma_log_likelihood",
    "margin_lifetime_value",
    "monthly_discount_rate",
    "pair_lift",
    "quintile_scores",
    "recommend_items",
    "rfm_segment",
    "score_lifetime_value",
    "score_rfm",
]
