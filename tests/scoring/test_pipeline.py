"""The scoring pipeline (kith/scoring/pipeline.py): fits, runs table, scores, failures with reasons, recommendations."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest

from kith.scoring import features, ltv, pipeline, propensity, rfm, synthetic

AS_OF = date(2025, 12, 31)
HORIZON = 90
FITTED_AT = datetime(2026, 1, 1, 6, 0, 0)


@pytest.fixture(scope="module")
def snapshots() -> dict[int, pd.DataFrame]:
    """Features of 4,000 synthetic BG/NBD customers at the as-of day and one and two horizons before it."""
    con = duckdb.connect()
    synthetic.write_synthetic_marts(con, 4_000, seed=2, days=500, acquisition_days=300)
    plan = features.snapshot_plan(AS_OF, HORIZON)
    frame = con.sql(
        features.snapshots_sql("fct_orders", plan, order_lines="fct_order_lines", touchpoints="fct_touchpoints")
    ).df()
    return {
        k: frame[frame["horizons_before_as_of"] == k].sort_values("customer_id").reset_index(drop=True)
        for k in (0, 1, 2)
    }


@pytest.fixture(scope="module")
def runs(snapshots: dict[int, pd.DataFrame]) -> list[pipeline.ModelRun]:
    return pipeline.fit_all(snapshots, AS_OF, HORIZON)


@pytest.fixture(scope="module")
def scores(snapshots: dict[int, pd.DataFrame], runs: list[pipeline.ModelRun]) -> pd.DataFrame:
    return pipeline.score_customers(snapshots[0], pipeline.runs_frame(runs, FITTED_AT), AS_OF)


def test_every_model_is_fitted_on_enough_data(runs: list[pipeline.ModelRun], snapshots) -> None:
    by_name = {run.model_name: run for run in runs}
    assert list(by_name) == list(pipeline.MODEL_NAMES)
    assert all(run.fitted and run.failure_reason is None for run in runs)
    assert by_name["bgnbd"].n_customers == len(snapshots[0])
    assert by_name["gamma_gamma"].n_customers == int((snapshots[0]["frequency"] > 0).sum())
    # the synthetic truth is recovered within three standard errors
    bgnbd = by_name["bgnbd"]
    for name, truth in synthetic.BGNBD_TRUTH.items():
        assert abs(bgnbd.parameters[name] - truth) < 3 * bgnbd.standard_errors[name], name


def test_propensity_is_evaluated_out_of_time(runs: list[pipeline.ModelRun], snapshots) -> None:
    run = runs[2]
    assert run.training_snapshot_date == date(2025, 10, 2)  # one horizon before as_of: the recorded fit
    assert run.holdout_snapshot_date == date(2025, 10, 2)
    assert run.details["holdout_training_snapshot_date"] == "2025-07-04"  # the evaluated fit: two horizons
    assert run.holdout_customer_count == len(snapshots[1])
    assert 0.6 < run.holdout_auc <= 1
    labels = (snapshots[1]["future_purchase_days"] > 0).astype(float)
    assert run.holdout_base_rate == pytest.approx(labels.mean())
    assert sum(row["n"] for row in run.calibration) == len(snapshots[1])
    assert run.log_likelihood < 0
    assert list(run.parameters) == [propensity.INTERCEPT, *pipeline.PROPENSITY_FEATURES]


def test_holdout_metrics_are_those_of_the_earlier_fit(snapshots, runs: list[pipeline.ModelRun]) -> None:
    # Independent recomputation: fit on snapshot 2 and score snapshot 1 by hand.
    design = pipeline.propensity_design(snapshots[2])
    y = (snapshots[2]["future_purchase_days"] > 0).astype(float)
    model = propensity.fit_propensity(design, y)
    holdout_y = (snapshots[1]["future_purchase_days"] > 0).astype(float)
    probability = model.predict(pipeline.propensity_design(snapshots[1]))
    assert runs[2].holdout_auc == pytest.approx(propensity.auc_score(holdout_y, probability))
    assert runs[2].holdout_brier_score == pytest.approx(propensity.brier_score(holdout_y, probability))


def test_runs_frame_round_trips_through_json(runs: list[pipeline.ModelRun]) -> None:
    frame = pipeline.runs_frame(runs, FITTED_AT)
    assert list(frame.columns) == list(pipeline.RUN_COLUMNS)
    assert (frame["fitted_at"] == pd.Timestamp(FITTED_AT)).all()
    bgnbd = json.loads(frame.loc[0, "parameters"])
    assert bgnbd == pytest.approx(runs[0].parameters, rel=1e-15)
    row = frame.loc[2].to_dict()
    rebuilt = pipeline.propensity_model_from_run(row)
    design = pipeline.propensity_design(pd.DataFrame(_feature_rows()))
    original = pipeline.propensity_model_from_run(runs[2])
    np.testing.assert_allclose(rebuilt.predict(design), original.predict(design), rtol=1e-14)
    # the duckdb JSON type accepts every JSON column (NaN would not be JSON)
    con = duckdb.connect()
    con.register("runs", frame)
    con.execute("select cast(parameters as json), cast(calibration as json), cast(details as json) from runs")


def _feature_rows() -> dict[str, list[float]]:
    return {
        "frequency": [0, 3],
        "recency_days": [10, 200],
        "age": [30, 400],
        "average_order_value": [50, 120],
        "orders_last_90_days": [1, 0],
        "return_rate": [0, 0.5],
        "online_order_share": [1, 0.25],
        "sessions_last_30_days": [0, 4],
        "product_views_last_30_days": [0, 2],
        "cart_adds_last_30_days": [0, 1],
    }


def test_scores_match_the_model_functions(scores: pd.DataFrame, snapshots, runs) -> None:
    summary = snapshots[0]
    assert list(scores.columns) == list(pipeline.SCORE_COLUMNS)
    assert scores["customer_id"].tolist() == summary["customer_id"].tolist()
    x, t_x, age = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "age"))
    bgnbd, gamma_gamma = runs[0].parameters, runs[1].parameters
    np.testing.assert_allclose(
        scores["expected_purchases_90d"], ltv.bgnbd_expected_purchases(bgnbd, 90.0, x, t_x, age), rtol=1e-12
    )
    np.testing.assert_allclose(scores["probability_alive"], ltv.bgnbd_probability_alive(bgnbd, x, t_x, age))
    monetary = summary["monetary_value"].to_numpy(dtype=float, na_value=np.nan)
    value = ltv.gamma_gamma_expected_order_value(gamma_gamma, x, monetary)
    clv = ltv.customer_lifetime_value(bgnbd, x, t_x, age, value, horizon_months=12, annual_rate=0.1)
    np.testing.assert_allclose(scores["lifetime_value_12m"], clv, rtol=1e-12)
    margin = summary["margin_rate"].to_numpy(dtype=float) * (1 - summary["return_rate"].to_numpy(dtype=float))
    np.testing.assert_allclose(scores["margin_lifetime_value_12m"], clv * margin, rtol=1e-12)
    expected_rfm = rfm.score_rfm(
        pd.DataFrame(
            {
                "customer_id": summary["customer_id"],
                "recency_days": summary["recency_days"],
                "frequency": summary["order_count"],
                "monetary": summary["net_amount"],
            }
        )
    )
    assert scores["rfm_segment"].tolist() == expected_rfm["rfm_segment"].tolist()
    assert scores["lifetime_value_missing_reason"].isna().all()
    assert scores["propensity_missing_reason"].isna().all()
    assert scores["purchase_propensity"].between(0, 1).all()


def test_propensity_ranks_buyers_in_the_next_horizon(snapshots, runs) -> None:
    # Scores at the as-of day are not evaluable (the future is unknown), but the same stored model
    # applied to the labelled holdout snapshot must rank buyers above non-buyers.
    model = pipeline.propensity_model_from_run(runs[2])
    labels = (snapshots[1]["future_purchase_days"] > 0).astype(float)
    assert propensity.auc_score(labels, model.predict(pipeline.propensity_design(snapshots[1]))) > 0.6


def test_margin_rate_falls_back_to_the_population_rate() -> None:
    summary = pd.DataFrame({"margin_rate": [0.5, np.nan, 0.2], "paid_amount": [100.0, 50.0, 300.0]})
    np.testing.assert_allclose(pipeline._margin_rates(summary), [0.5, (50 + 60) / 400, 0.2])


# --- data that cannot support a fit ----------------------------------------------------------


def _tiny(n: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frequency = rng.integers(0, 3, n)
    age = rng.integers(30, 90, n)
    recency = np.where(frequency > 0, age // 2, 0)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp(AS_OF),
            "first_purchase_date": pd.Timestamp(AS_OF) - pd.to_timedelta(age, unit="D"),
            "last_purchase_date": pd.Timestamp(AS_OF) - pd.to_timedelta(age - recency, unit="D"),
            "order_count": frequency + 1,
            "purchase_day_count": frequency + 1,
            "frequency": frequency,
            "recency": recency,
            "age": age,
            "recency_days": age - recency,
            "monetary_value": np.where(frequency > 0, 50.0, np.nan),
            "average_order_value": 50.0,
            "paid_amount": 50.0 * (frequency + 1),
            "net_amount": 50.0 * (frequency + 1),
            "margin_rate": 0.5,
            "return_rate": 0.0,
            "orders_last_90_days": frequency + 1,
            "online_order_share": 0.5,
            "sessions_last_30_days": 0,
            "product_views_last_30_days": 0,
            "cart_adds_last_30_days": 0,
            "future_purchase_days": pd.array([pd.NA] * n, dtype="Int32"),
        }
    )


def test_a_tiny_sample_fails_every_fit_with_a_reason_and_still_scores_rfm() -> None:
    tiny = _tiny()
    labelled = tiny.assign(future_purchase_days=pd.array([0, 1] * 4, dtype="Int32"))
    runs = pipeline.fit_all({0: tiny, 1: labelled, 2: labelled}, AS_OF, HORIZON)
    assert [run.status for run in runs] == ["failed", "failed", "failed"]
    assert "BG/NBD needs at least 20 customers, got 8" in runs[0].failure_reason
    assert "Gamma-Gamma needs at least 10 customers with repeat purchases" in runs[1].failure_reason
    assert "needs at least 50" in runs[2].failure_reason
    frame = pipeline.runs_frame(runs, FITTED_AT)
    assert frame["parameters"].isna().all() and frame["failure_reason"].notna().all()
    scores = pipeline.score_customers(tiny, frame, AS_OF)
    assert scores["rfm_segment"].notna().all()
    assert scores["lifetime_value_12m"].isna().all() and scores["purchase_propensity"].isna().all()
    assert scores["lifetime_value_missing_reason"].str.startswith("bgnbd fit failed: BG/NBD needs").all()
    assert scores["propensity_missing_reason"].str.startswith("purchase_propensity fit failed:").all()
    assert str(scores["propensity_missing_reason"].dtype) == "string"  # typed for the table even when all null


def test_gamma_gamma_failure_keeps_the_purchase_predictions(snapshots) -> None:
    summary = snapshots[0].assign(monetary_value=lambda f: np.where(f["frequency"] > 0, 80.0, np.nan))
    bgnbd, gamma_gamma = pipeline.fit_lifetime_models(summary, AS_OF)
    assert bgnbd.fitted and not gamma_gamma.fitted
    assert "same mean spend" in gamma_gamma.failure_reason
    frame = pipeline.runs_frame([bgnbd, gamma_gamma], FITTED_AT)
    scores = pipeline.score_customers(summary, frame, AS_OF)
    assert scores["expected_purchases_365d"].notna().all() and scores["probability_alive"].notna().all()
    assert scores["lifetime_value_12m"].isna().all()
    reason = scores["lifetime_value_missing_reason"].iloc[0]
    assert reason.startswith("gamma_gamma fit failed:") and "P(alive) are available" in reason
    assert scores["propensity_missing_reason"].eq("purchase_propensity was not fitted in this build").all()


def test_propensity_with_one_outcome_class_fails_with_a_reason(snapshots) -> None:
    nobody = snapshots[1].assign(future_purchase_days=pd.array([0] * len(snapshots[1]), dtype="Int32"))
    run = pipeline.fit_purchase_propensity(snapshots[2], nobody, AS_OF, HORIZON)
    assert run.status == "failed"
    assert "0 customers bought in the horizon" in run.failure_reason


def test_a_failed_holdout_keeps_the_final_fit(snapshots) -> None:
    too_few = snapshots[2].head(20)
    run = pipeline.fit_purchase_propensity(too_few, snapshots[1], AS_OF, HORIZON)
    assert run.fitted and run.holdout_auc is None
    assert "holdout evaluation skipped" in run.notes


def test_constant_features_are_left_out(snapshots) -> None:
    flat = {k: frame.assign(sessions_last_30_days=0) for k, frame in snapshots.items()}
    run = pipeline.fit_purchase_propensity(flat[2], flat[1], AS_OF, HORIZON)
    assert run.fitted and "log_sessions_last_30_days" not in run.parameters
    assert "constant feature(s) left out: log_sessions_last_30_days" in run.notes


def test_read_settings() -> None:
    con = duckdb.connect()
    row = (
        "select date '2026-01-31' as as_of_date, 90 as propensity_horizon_days, 5 as recommendations_per_customer,"
        " 2 as recommendation_min_pair_count, 0.1 as clv_annual_discount_rate"
    )
    settings = pipeline.read_settings(con.sql(row))
    assert settings == pipeline.ScoringSettings(date(2026, 1, 31), 90, 5, 2, 0.1)
    with pytest.raises(ValueError, match="no as-of date"):
        pipeline.read_settings(con.sql(row.replace("date '2026-01-31'", "cast(null as date)")))
    with pytest.raises(ValueError, match="exactly one row"):
        pipeline.read_settings(con.sql(f"{row} union all {row}"))


# --- recommendations, affinity, baskets -------------------------------------------------------


def test_recommendations_exclude_bought_and_out_of_stock_products() -> None:
    # c1 bought A; everyone who bought A also bought B, C or D. B is out of stock, D is missing
    # from the inventory, so only C can be recommended to c1. c2 bought A and C already.
    purchases = pd.DataFrame(
        [
            ("c1", "A"),
            ("c2", "A"),
            ("c2", "C"),
            ("c3", "A"),
            ("c3", "B"),
            ("c3", "C"),
            ("c3", "D"),
            ("c4", "A"),
            ("c4", "B"),
            ("c4", "D"),
            ("c5", "E"),
            ("c6", "E"),
            ("c6", "F"),
            ("c7", "F"),
        ],
        columns=["customer_id", "sku"],
    )
    everything = pipeline.recommend_in_stock(purchases, ["A", "B", "C", "D", "E", "F"], n=5, min_pair_count=1)
    assert {"B", "D"} <= set(everything.loc[everything["customer_id"] == "c1", "sku"])  # the filter matters
    ranked = pipeline.recommend_in_stock(purchases, ["A", "C", "E", "F"], n=5, min_pair_count=1)
    assert set(ranked.columns) == set(pipeline.RECOMMENDATION_COLUMNS)
    bought = set(map(tuple, purchases.to_numpy()))
    assert not any((c, s) in bought for c, s in ranked[["customer_id", "sku"]].itertuples(index=False))
    assert set(ranked["sku"]) <= {"A", "C", "E", "F"}
    assert ranked.loc[ranked["customer_id"] == "c1", "sku"].tolist() == ["C"]
    assert (
        ranked.groupby("customer_id")["recommendation_rank"]
        .apply(lambda r: r.tolist() == list(range(1, len(r) + 1)))
        .all()
    )


def test_recommendations_on_synthetic_data_respect_the_filters() -> None:
    con = duckdb.connect()
    synthetic.write_synthetic_marts(con, 2_000, seed=4, skus=300, categories=6)
    end = con.execute("select max(snapshot_date) from int_product_stock_snapshots").fetchall()[0][0]
    purchases = con.sql(features.customer_items_sql("fct_order_lines", end)).df()
    in_stock = con.sql(features.in_stock_skus_sql("int_product_stock_snapshots", end)).df()["sku"].tolist()
    ranked = pipeline.recommend_in_stock(purchases, in_stock, n=5, min_pair_count=2)
    assert ranked["customer_id"].nunique() > 1000
    assert ranked.groupby("customer_id").size().max() == 5
    assert set(ranked["sku"]) <= set(in_stock)
    assert ranked.merge(purchases, on=["customer_id", "sku"]).empty
    out_of_stock = set(purchases["sku"]) - set(in_stock)
    assert out_of_stock  # every 20th SKU: the filter has something to remove


def test_empty_recommendations_are_typed() -> None:
    ranked = pipeline.recommend_in_stock(
        pd.DataFrame({"customer_id": ["c1"], "sku": ["A"]}), ["A"], n=3, min_pair_count=1
    )
    assert ranked.empty and list(ranked.columns) == list(pipeline.RECOMMENDATION_COLUMNS)
    assert str(ranked["score"].dtype) == "float64" and str(ranked["recommendation_rank"].dtype) == "int64"


def test_category_affinities_and_pairs_by_hand() -> None:
    spend = pd.DataFrame(
        {"customer_id": ["c1", "c1", "c2"], "category": ["shoes", "tops", "tops"], "spend": [30.0, 10.0, 60.0]}
    )
    table = pipeline.category_affinities(spend).set_index(["customer_id", "category"])
    assert table.loc[("c1", "shoes"), "spend_share"] == pytest.approx(0.75)
    assert table.loc[("c1", "shoes"), "affinity_index"] == pytest.approx(0.75 / 0.3)
    baskets = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o3"], "category": ["shoes", "tops", "tops", "shoes"]})
    pairs = pipeline.category_pair_associations(baskets).set_index(["antecedent_category", "consequent_category"])
    row = pairs.loc[("shoes", "tops")]
    assert (row["pair_count"], row["n_baskets"]) == (1, 3)
    assert row["confidence"] == pytest.approx(1 / 2) and row["lift"] == pytest.approx((1 / 3) / ((2 / 3) * (2 / 3)))


def test_a_non_finite_expectation_is_null_with_a_reason(snapshots, runs, monkeypatch: pytest.MonkeyPatch) -> None:
    original = ltv.bgnbd_expected_purchases

    def broken_for_the_first(*args, **kwargs):
        values = original(*args, **kwargs).copy()
        values[0] = np.nan
        return values

    monkeypatch.setattr(ltv, "bgnbd_expected_purchases", broken_for_the_first)
    scores = pipeline.score_customers(snapshots[0], pipeline.runs_frame(runs, FITTED_AT), AS_OF)
    first, rest = scores.iloc[0], scores.iloc[1:]
    assert pd.isna(first["lifetime_value_12m"]) and pd.isna(first["probability_alive"])
    assert first["lifetime_value_missing_reason"].startswith("numerical failure")
    assert rest["lifetime_value_12m"].notna().all() and rest["lifetime_value_missing_reason"].isna().all()
