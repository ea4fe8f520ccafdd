"""Every score of every customer with a purchase on or before the as-of date: RFM, BG/NBD expected
purchases and P(alive), Gamma-Gamma expected order value, CLV and margin CLV, purchase propensity.

Parameters come from fct_scoring_model_fits; a model that could not be fitted leaves its scores
null with the reason. Published, typed and contracted, by dim_customer_scores. Logic:
kith/scoring/pipeline.py (tests/scoring/test_pipeline.py).
"""

from kith.frames import model_output, relations
from kith.scoring.pipeline import read_settings, score_customers


def model(dbt, session):
    dbt.config(materialized="table")
    relation = relations(session)  # the relation itself on DuckDB; on Spark a DataFrame with its methods
    settings = read_settings(relation(dbt.ref("dim_scoring_as_of")))
    summary = (
        relation(dbt.ref("fct_scoring_customer_features"))
        .filter("horizons_before_as_of = 0")
        .order("customer_id")
        .df()
        .reset_index(drop=True)
    )
    runs = relation(dbt.ref("fct_scoring_model_fits")).df()
    scores = score_customers(summary, runs, settings.as_of, annual_discount_rate=settings.clv_annual_discount_rate)
    return model_output(session, scores)
