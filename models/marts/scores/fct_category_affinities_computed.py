"""Each customer's share of spend per category up to the as-of date, indexed against the
population (kith/scoring/recommend.py category_affinity). Spend per customer and category is
summed in SQL first. Published by fct_category_affinities.
"""

from kith.scoring.features import category_spend_sql
from kith.scoring.pipeline import category_affinities, read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("dim_scoring_as_of"))
    lines = f"({dbt.ref('fct_order_lines').sql_query()})"
    return category_affinities(session.sql(category_spend_sql(lines, settings.as_of)).df())
