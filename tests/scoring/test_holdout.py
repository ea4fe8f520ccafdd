"""Holdout evaluation of lifetime value (kith/scoring/holdout.py, `kith evaluate ltv`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from kith.config import DEFAULT_START_DATE, Paths, UserError
from kith.scoring import features, holdout, ltv, synthetic
from tests.conftest import Sample, run_kith

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def simulated() -> duckdb.DuckDBPyConnection:
    """20,000 customers drawn from BG/NBD and Gamma-Gamma with known parameters, over two years."""
    con = duckdb.connect()
    synthetic.write_synthetic_marts(con, 20_000, seed=3)
    return con


@pytest.fixture(scope="module")
def evaluation(simulated: duckdb.DuckDBPyConnection) -> holdout.HoldoutEvaluation:
    return holdout.evaluate_ltv_holdout(simulated, AS_OF, orders="fct_orders")


def test_evaluation_recovers_the_simulated_truth(
    simulated: duckdb.DuckDBPyConnection, evaluation: holdout.HoldoutEvaluation
) -> None:
    assert evaluation.holdout_end == date(2026, 12, 31)
    assert evaluation.holdout_days == 365
    assert evaluation.customers == 20_000  # every customer was acquired in the first year
    # The fit is the maximum likelihood of the BG/NBD story the data were drawn from: the truth
    # lies within three standard errors of every estimate.
    calibration = features.customer_features(simulated, "fct_orders", features.Snapshot(AS_OF)).df()
    fit = ltv.fit_bgnbd(calibration["frequency"], calibration["recency"], calibration["age"])
    assert evaluation.bgnbd_parameters == pytest.approx(fit.params)
    for name, truth in synthetic.BGNBD_TRUTH.items():
        assert abs(fit.params[name] - truth) < 3 * fit.standard_errors[name], name
    # Predictions add up to what happened, overall and for each calibration frequency.
    assert abs(evaluation.aggregate_relative_error) < 0.05
    for group in evaluation.by_frequency:
        if group.customers >= 300:
            assert group.mean_predicted == pytest.approx(group.mean_actual, rel=0.1), group
    assert abs(evaluation.spend_relative_error) < 0.05
    # The model beats extrapolating each customer's own calibration rate.
    assert evaluation.mean_absolute_error < evaluation.baseline_mean_absolute_error
    assert evaluation.correlation > 0.5


def test_evaluation_with_the_true_parameters_is_as_close(
    simulated: duckdb.DuckDBPyConnection, evaluation: holdout.HoldoutEvaluation
) -> None:
    # Independent of the fit: the conditional expectation at the true parameters predicts the
    # same total, so the comparison itself (windows, counts) is right.
    snapshot = features.Snapshot(AS_OF, evaluation.holdout_end)
    calibration = features.customer_features(simulated, "fct_orders", snapshot).df()
    x, t_x, age = (calibration[c].to_numpy(dtype=float) for c in ("frequency", "recency", "age"))
    truth = ltv.bgnbd_expected_purchases(synthetic.BGNBD_TRUTH, 365.0, x, t_x, age).sum()
    assert evaluation.actual_purchases == calibration["future_purchase_days"].sum()
    assert truth == pytest.approx(evaluation.actual_purchases, rel=0.05)
    assert evaluation.predicted_purchases == pytest.approx(truth, rel=0.05)


def test_report_files(evaluation: holdout.HoldoutEvaluation, tmp_path: Path) -> None:
    json_path, md_path = holdout.write_report(evaluation, tmp_path / "reports")
    report = json.loads(json_path.read_text())
    assert report["as_of"] == "2025-12-31" and report["holdout_days"] == 365
    assert report["predicted_purchases"] == pytest.approx(evaluation.predicted_purchases)
    assert len(report["by_frequency"]) == holdout.FREQUENCY_GROUPS + 1
    text = md_path.read_text()
    assert "| 7+ |" in text and "kith evaluate ltv --as-of 2025-12-31" in text


def test_default_as_of_is_ninety_days_before_the_latest_order(simulated: duckdb.DuckDBPyConnection) -> None:
    end = features.data_end_date(simulated, "fct_orders")
    default = holdout.evaluate_ltv_holdout(simulated, orders="fct_orders")
    assert default.as_of == end - timedelta(days=90) and default.holdout_days == 90


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        (date(2027, 1, 1), "leaves no holdout period: the latest order is on 2026-12-31"),
        (date(2024, 12, 31), "no purchases on or before 2024-12-31"),
        (date(2025, 1, 1), "cannot fit BG/NBD on the"),
    ],
)
def test_impossible_evaluations_are_value_errors(simulated, as_of: date, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        holdout.evaluate_ltv_holdout(simulated, as_of, orders="fct_orders")


def test_command_errors_are_one_line_user_errors(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "landing", tmp_path / "truth", tmp_path / "missing.duckdb", tmp_path / "reports")
    with pytest.raises(UserError, match="does not exist yet"):
        holdout.evaluate_ltv_command(argparse.Namespace(as_of=None), paths)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(UserError, match=r"no marts.fct_orders: run `kith build` first"):
        holdout.evaluate_ltv_command(argparse.Namespace(as_of=None), replace(paths, warehouse=empty))


# --- on the shared 300-customer sample -------------------------------------------------------


def test_kith_evaluate_ltv_on_the_built_sample(built_sample: Sample, tmp_path: Path) -> None:
    env = {**built_sample.env, "KITH_REPORTS": str(tmp_path / "reports")}
    proc = run_kith(env, "evaluate", "ltv")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "reports" / "ltv_holdout.json").read_text())
    assert (tmp_path / "reports" / "ltv_holdout.md").exists()
    assert report["holdout_days"] == 90
    assert date.fromisoformat(report["as_of"]) == date.fromisoformat(report["holdout_end"]) - timedelta(days=90)
    assert report["customers"] > 100
    assert report["actual_purchases"] == sum(g["customers"] * g["mean_actual"] for g in report["by_frequency"])
    assert np.isfinite(report["mean_absolute_error"])
    assert "holdout purchase days: actual" in proc.stdout and "report:" in proc.stdout


def test_kith_evaluate_ltv_without_enough_history_is_one_line(built_sample: Sample, tmp_path: Path) -> None:
    # Three days into the sample only a handful of customers have bought: BG/NBD cannot be fitted.
    env = {**built_sample.env, "KITH_REPORTS": str(tmp_path / "reports")}
    proc = run_kith(env, "evaluate", "ltv", "--as-of", str(DEFAULT_START_DATE + timedelta(days=3)))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kith evaluate: error: cannot fit BG/NBD on the ")
    assert "customers with purchases up to 2025-11-04" in lines[0]
    assert not (tmp_path / "reports").exists()
