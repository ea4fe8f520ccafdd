"""Each customer's share of spend per category up to the as-of date, indexed against the
population (kith/scoring/recommend.py category_affinity). Spend per customer and category is
summed in SQL first. Published by fct_category_affinities.
"""

from kith.frames import model_output, relations, sql_tables
from kith.scoring.features import category_spend_sql
from kith.scoring.pipeline import category_affinities, read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(relations(session)(dbt.ref("dim_scoring_as_of")))
    con, tables = sql_tables(session, lines=dbt.ref("fct_order_lines"))
    return model_output(session, category_affinities(con.sql(category_spend_sql(tables["lines"], settings.as_of)).df()))
