"""Propensity: coefficient recovery, failure handling, AUC / Brier / calibration by hand."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pandas as pd
import pytest

from kith.scoring import propensity
from kith.scoring.propensity import PropensityFitError

TRUE_COEFFICIENTS = {"intercept": -0.5, "recency_score": 1.0, "orders": -2.0, "noise": 0.0}


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {"recency_score": rng.normal(size=n), "orders": rng.normal(size=n), "noise": rng.normal(size=n)}
    )
    logit = TRUE_COEFFICIENTS["intercept"] + features.to_numpy() @ np.array(list(TRUE_COEFFICIENTS.values())[1:])
    outcome = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return features, outcome


def test_recovers_known_coefficients() -> None:
    features, outcome = synthetic(20_000, seed=1)
    model = propensity.fit_propensity(features, outcome)
    table = model.coefficients.set_index("term")
    assert model.method == "mle" and model.converged
    assert list(table.index) == ["intercept", "recency_score", "orders", "noise"]
    assert list(model.coefficients.columns) == ["term", "coefficient", "std_error", "z_value", "p_value"]
    for term, value in TRUE_COEFFICIENTS.items():
        assert table.loc[term, "coefficient"] == pytest.approx(value, abs=4 * table.loc[term, "std_error"]), term
        assert table.loc[term, "coefficient"] == pytest.approx(value, abs=0.1), term
    assert table.loc["recency_score", "p_value"] < 1e-10
    assert table.loc["orders", "p_value"] < 1e-10
    assert table.loc["noise", "z_value"] == pytest.approx(
        table.loc["noise", "coefficient"] / table.loc["noise", "std_error"]
    )


def test_predict_and_holdout_evaluation() -> None:
    features, outcome = synthetic(10_000, seed=2)
    holdout_features, holdout_outcome = synthetic(5_000, seed=3)
    model = propensity.fit_propensity(features, outcome)
    probability = model.predict(holdout_features)
    assert probability.shape == (5_000,)
    assert np.all((probability > 0) & (probability < 1))
    evaluation = propensity.evaluate_propensity(model, holdout_features, holdout_outcome)
    assert 0.8 < evaluation.auc < 0.95
    assert evaluation.brier < holdout_outcome.mean() * (1 - holdout_outcome.mean())  # beats the base rate
    calibration = evaluation.calibration
    assert calibration["n"].tolist() == [500] * 10
    assert np.all(np.abs(calibration["mean_predicted"] - calibration["observed_rate"]) < 0.06)
    with pytest.raises(ValueError, match="missing column"):
        model.predict(holdout_features.drop(columns="orders"))


def test_perfect_separation_falls_back_to_l2(caplog: pytest.LogCaptureFixture) -> None:
    x = np.arange(40, dtype=float)
    features = pd.DataFrame({"spend": x})
    outcome = (x >= 20).astype(int)
    with caplog.at_level(logging.WARNING):
        model = propensity.fit_propensity(features, outcome)
    assert model.method == "l2"
    assert "L2 fallback" in model.message
    assert np.all(np.isfinite(model.params))
    assert model.coefficients["std_error"].isna().all()
    probability = model.predict(features)
    assert np.all(np.diff(probability) > 0)
    assert propensity.auc_score(outcome, probability) == 1.0
    assert any("L2 penalty" in record.message for record in caplog.records)
    with pytest.raises(PropensityFitError, match=r"separation|converge"):
        propensity.fit_propensity(features, outcome, l2_fallback=False)


def test_collinear_features_fall_back_or_raise() -> None:
    features, outcome = synthetic(500, seed=4)
    features["orders_twice"] = 2 * features["orders"]
    with pytest.raises(PropensityFitError, match="singular"):
        propensity.fit_propensity(features, outcome, l2_fallback=False)
    model = propensity.fit_propensity(features, outcome)
    assert model.method == "l2"
    table = model.coefficients.set_index("term")
    # The ridge splits the effect between the copies: orders + 2 * orders_twice ~ the true -2.
    combined = table.loc["orders", "coefficient"] + 2 * table.loc["orders_twice", "coefficient"]
    assert combined == pytest.approx(-2.0, abs=0.5)


def test_single_class_outcome_is_an_error() -> None:
    features, _ = synthetic(50, seed=5)
    with pytest.raises(PropensityFitError, match="single class"):
        propensity.fit_propensity(features, np.zeros(50))
    with pytest.raises(ValueError, match="binary"):
        propensity.fit_propensity(features, np.full(50, 2))


# --- AUC ---------------------------------------------------------------------------------------------


def test_auc_of_perfect_reversed_and_constant_rankings() -> None:
    outcome = np.array([0, 0, 0, 1, 1])
    assert propensity.auc_score(outcome, [0.1, 0.2, 0.3, 0.8, 0.9]) == 1.0
    assert propensity.auc_score(outcome, [0.9, 0.8, 0.7, 0.2, 0.1]) == 0.0
    assert propensity.auc_score(outcome, [0.5] * 5) == 0.5


def test_auc_by_hand() -> None:
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4) -> 3/4
    assert propensity.auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    # positives 0.5, 0.9; negatives 0.5, 0.2: tie counts 1/2 -> (0.5 + 1 + 1 + 1) / 4
    assert propensity.auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875


def test_auc_equals_pairwise_count_with_ties() -> None:
    rng = np.random.default_rng(6)
    outcome = rng.integers(0, 2, 300)
    score = rng.integers(0, 12, 300).astype(float)  # many ties
    positives, negatives = score[outcome == 1], score[outcome == 0]
    wins = sum((p > q) + 0.5 * (p == q) for p, q in itertools.product(positives, negatives))
    assert propensity.auc_score(outcome, score) == pytest.approx(wins / (positives.size * negatives.size), rel=1e-12)


def test_auc_of_a_random_ranking_is_about_one_half() -> None:
    rng = np.random.default_rng(8)
    assert propensity.auc_score(rng.integers(0, 2, 50_000), rng.random(50_000)) == pytest.approx(0.5, abs=0.01)


def test_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        propensity.auc_score([1, 1], [0.2, 0.3])


# --- Brier and calibration ------------------------------------------------------------------------------


def test_brier_by_hand() -> None:
    # (0.9 - 1)^2 + (0.2 - 0)^2 + (0.6 - 0)^2 + (0.5 - 1)^2 = 0.01 + 0.04 + 0.36 + 0.25 = 0.66 -> / 4
    assert propensity.brier_score([1, 0, 0, 1], [0.9, 0.2, 0.6, 0.5]) == pytest.approx(0.165)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        propensity.brier_score([1], [1.2])


def test_calibration_table_by_hand() -> None:
    probability = np.array([0.05, 0.9, 0.1, 0.8, 0.3, 0.35])
    outcome = np.array([0, 1, 0, 0, 1, 0])
    table = propensity.calibration_table(outcome, probability, n_bins=3)
    # sorted: 0.05(0) 0.1(0) | 0.3(1) 0.35(0) | 0.8(0) 0.9(1)
    assert table["bin"].tolist() == [1, 2, 3]
    assert table["n"].tolist() == [2, 2, 2]
    assert table["mean_predicted"].to_numpy() == pytest.approx([0.075, 0.325, 0.85])
    assert table["observed_rate"].tolist() == [0.0, 0.5, 0.5]
    assert table["min_predicted"].tolist() == [0.05, 0.3, 0.8]
    assert table["max_predicted"].tolist() == [0.1, 0.35, 0.9]


def test_calibration_with_fewer_rows_than_bins() -> None:
    table = propensity.calibration_table([0, 1, 1], [0.2, 0.6, 0.7], n_bins=10)
    # positions 0, 1, 2 -> bins 0*10//3+1 = 1, 10//3+1 = 4, 20//3+1 = 7
    assert table["bin"].tolist() == [1, 4, 7]
    assert table["n"].sum() == 3
