"""Market-basket summary by category pair over the orders placed up to the as-of date: support,
confidence and lift of every ordered pair (kith/scoring/recommend.py category_pair_summary).
Distinct (order, category) baskets are selected in SQL first. Published by
fct_category_pair_associations.
"""

from kith.scoring.features import order_categories_sql
from kith.scoring.pipeline import category_pair_associations, read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("dim_scoring_as_of"))
    lines = f"({dbt.ref('fct_order_lines').sql_query()})"
    return category_pair_associations(session.sql(order_categories_sql(lines, settings.as_of)).df())
