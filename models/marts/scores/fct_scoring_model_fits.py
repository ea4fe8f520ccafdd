"""This build's model fits, one row per model: BG/NBD and Gamma-Gamma at the as-of date, and the
purchase propensity logistic regression with its out-of-time holdout evaluation.

A fit the data cannot support is a `failed` row with the reason, never an error: a tiny sample
still builds. Only the per-customer features leave DuckDB. Logic: kith/scoring/pipeline.py
(tests/scoring/test_pipeline.py).
"""

from datetime import UTC, datetime

from kith.frames import model_output, relations
from kith.scoring.pipeline import FIT_COLUMNS, fit_all, read_settings, runs_frame


def model(dbt, session):
    dbt.config(materialized="table")
    relation = relations(session)  # the relation itself on DuckDB; on Spark a DataFrame with its methods
    settings = read_settings(relation(dbt.ref("dim_scoring_as_of")))
    features = relation(dbt.ref("fct_scoring_customer_features")).project(
        ", ".join((*FIT_COLUMNS, "horizons_before_as_of"))
    )
    snapshots = {
        k: features.filter(f"horizons_before_as_of = {k}").order("customer_id").df().reset_index(drop=True)
        for k in (0, 1, 2)
    }
    runs = fit_all(snapshots, settings.as_of, settings.propensity_horizon_days)
    return model_output(session, runs_frame(runs, fitted_at=datetime.now(UTC).replace(tzinfo=None)))
