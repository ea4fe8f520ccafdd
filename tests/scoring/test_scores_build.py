"""The scoring models built by dbt on copies of the shared sample: point in time and tiny data.

Each test copies the shared, fully built 300-customer warehouse and rebuilds only the scoring
models (`models/intermediate/scoring`, `models/marts/scores`) with `kith__as_of_date` set.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from kith.config import DEFAULT_START_DATE
from tests.conftest import Sample, run_kith

SCORING = ("--select", "path:models/intermediate/scoring", "path:models/marts/scores")
PUBLISHED = {
    "dim_customer_scores": "customer_id",
    "fct_product_recommendations": "customer_id, recommendation_rank",
    "fct_category_affinities": "customer_id, category",
    "fct_category_pair_associations": "antecedent_category, consequent_category",
    "fct_propensity_coefficients": "term",
    "fct_scoring_model_fits": "model_name",
}


def _copy(sample: Sample, root: Path) -> dict[str, str]:
    root.mkdir(parents=True)
    warehouse = root / "kith.duckdb"
    shutil.copy(sample.warehouse, warehouse)
    wal = sample.warehouse.with_name(sample.warehouse.name + ".wal")
    if wal.exists():
        shutil.copy(wal, root / wal.name)
    return {
        **sample.env,
        "KITH_WAREHOUSE": str(warehouse),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }


def _build_scores(env: dict[str, str], as_of: date) -> None:
    proc = run_kith(env, "build", *SCORING, "--vars", f"{{kith__as_of_date: '{as_of.isoformat()}'}}")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]


def _published(env: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The scoring tables, without the fit timestamps (which differ between any two builds)."""
    con = duckdb.connect(env["KITH_WAREHOUSE"], read_only=True)
    try:
        frames = {}
        for table, key in PUBLISHED.items():
            columns = (
                "* exclude (fitted_at)" if table in ("fct_propensity_coefficients", "fct_scoring_model_fits") else "*"
            )
            frames[table] = con.sql(f"select {columns} from marts.{table} order by {key}").df()
        return frames
    finally:
        con.close()


def _query(env: dict[str, str], sql: str) -> pd.DataFrame:
    con = duckdb.connect(env["KITH_WAREHOUSE"], read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def test_too_little_history_publishes_null_scores_with_reasons(built_sample: Sample, tmp_path: Path) -> None:
    env = _copy(built_sample, tmp_path / "early")
    runs_before = len(_query(env, "select * from marts.fct_scoring_model_runs"))
    as_of = DEFAULT_START_DATE + timedelta(days=6)  # a week of data: a handful of customers
    _build_scores(env, as_of)  # the build (models and their tests) succeeds
    runs = _query(env, f"select * from marts.fct_scoring_model_runs where as_of_date = '{as_of}' order by model_name")
    assert runs["model_name"].tolist() == ["bgnbd", "gamma_gamma", "purchase_propensity"]
    assert (runs["status"] == "failed").all()
    assert runs["failure_reason"].str.len().gt(10).all()
    assert runs["parameters"].isna().all()
    assert len(_query(env, "select * from marts.fct_scoring_model_runs")) == runs_before + 3  # history kept
    scores = _query(env, "select * from marts.dim_customer_scores")
    assert 0 < len(scores) < 100
    assert (scores["as_of_date"] == pd.Timestamp(as_of)).all()
    assert (scores["last_purchase_date"] <= pd.Timestamp(as_of)).all()
    assert scores["rfm_segment"].notna().all()
    assert scores["expected_purchases_90d"].isna().all() and scores["lifetime_value_12m"].isna().all()
    assert scores["purchase_propensity"].isna().all()
    assert scores["lifetime_value_missing_reason"].str.startswith("bgnbd fit failed: BG/NBD needs").all()
    assert scores["propensity_missing_reason"].str.startswith("purchase_propensity fit failed: ").all()
    assert _query(env, "select count(*) as n from marts.fct_propensity_coefficients")["n"].iloc[0] == 0


def _truncate(env: dict[str, str], day: date) -> dict[str, int]:
    """Make the copy the world as it was at the end of ``day``; returns the rows removed per table."""
    d = f"date '{day.isoformat()}'"
    con = duckdb.connect(env["KITH_WAREHOUSE"])
    try:
        removed = {}
        for table, condition in (
            ("marts.fct_orders", f"order_date > {d}"),
            ("marts.fct_order_lines", f"order_date > {d}"),
            ("marts.fct_touchpoints", f"touchpoint_date > {d}"),
            ("raw_erp.inventory", f"snapshot_date > {d}"),
        ):
            removed[table] = con.execute(f"delete from {table} where {condition}").fetchall()[0][0]
        later_returns = f"first_returned_at >= {d} + interval 1 day"
        removed["returns"] = con.execute(
            f"update marts.fct_order_lines set returned_amount = 0, returned_quantity = 0, first_returned_at = null "
            f"where {later_returns}"
        ).fetchall()[0][0]
        con.execute(f"update marts.fct_orders set returned_amount = 0, first_returned_at = null where {later_returns}")
    finally:
        con.close()
    return removed


def test_scores_use_no_data_after_the_as_of_date(built_sample: Sample, tmp_path: Path) -> None:
    """Scores built at a past date on all the data equal scores built on the data as it was that day."""
    env = _copy(built_sample, tmp_path / "point_in_time")
    # The sample's inventory covers its last four weeks only: an as-of date inside them lets the
    # comparison include recommendations (without a snapshot on or before it nothing is in stock).
    as_of = date(2026, 10, 15)
    _build_scores(env, as_of)
    full = _published(env)
    removed = _truncate(env, as_of)
    assert all(n > 0 for n in removed.values()), removed  # there was later data to ignore
    _build_scores(env, as_of)
    truncated = _published(env)

    fits = full["fct_scoring_model_fits"].set_index("model_name")
    assert fits.loc["bgnbd", "status"] == "fitted"  # the comparison covers fitted models
    assert fits.loc["purchase_propensity", "status"] == "fitted"
    assert full["dim_customer_scores"]["expected_purchases_90d"].notna().all()
    assert len(full["fct_product_recommendations"]) > 0 and len(full["fct_propensity_coefficients"]) > 1
    for table in PUBLISHED:
        pd.testing.assert_frame_equal(full[table], truncated[table], obj=table)
