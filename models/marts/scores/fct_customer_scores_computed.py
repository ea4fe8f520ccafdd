"""Every score of every customer with a purchase on or before the as-of date: RFM, BG/NBD expected
purchases and P(alive), Gamma-Gamma expected order value, CLV and margin CLV, purchase propensity.

Parameters come from fct_scoring_model_fits; a model that could not be fitted leaves its scores
null with the reason. Published, typed and contracted, by dim_customer_scores. Logic:
kith/scoring/pipeline.py (tests/scoring/test_pipeline.py).
"""

from kith.scoring.pipeline import read_settings, score_customers


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("dim_scoring_as_of"))
    summary = (
        dbt.ref("fct_scoring_customer_features")
        .filter("horizons_before_as_of = 0")
        .order("customer_id")
        .df()
        .reset_index(drop=True)
    )
    runs = dbt.ref("fct_scoring_model_fits").df()
    return score_customers(summary, runs, settings.as_of, annual_discount_rate=settings.clv_annual_discount_rate)
