"""Market-basket summary by category pair over the orders placed up to the as-of date: support,
confidence and lift of every ordered pair (kith/scoring/recommend.py category_pair_summary).
Distinct (order, category) baskets are selected in SQL first. Published by
fct_category_pair_associations.
"""

from kith.frames import model_output, relations, sql_tables
from kith.scoring.features import order_categories_sql
from kith.scoring.pipeline import category_pair_associations, read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(relations(session)(dbt.ref("dim_scoring_as_of")))
    con, tables = sql_tables(session, lines=dbt.ref("fct_order_lines"))
    baskets = con.sql(order_categories_sql(tables["lines"], settings.as_of)).df()
    return model_output(session, category_pair_associations(baskets))
