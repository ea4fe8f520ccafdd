"""Point-in-time features of every customer: at the scores' as-of date, and one and two propensity
horizons earlier with the outcome that followed (the propensity model's training snapshots).

Pure SQL run by DuckDB (kith/scoring/features.py, tests/scoring/test_features.py): on DuckDB no
order or touchpoint leaves the database and the relation is materialised as it is; on Spark the
orders, lines and touchpoints are collected to the driver and the same SQL runs there in an
in-memory DuckDB (kith.frames.sql_tables, docs/spark.md).
"""

from kith.frames import model_output, relations, sql_tables
from kith.scoring.features import snapshot_plan, snapshots_sql
from kith.scoring.pipeline import read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(relations(session)(dbt.ref("dim_scoring_as_of")))
    con, tables = sql_tables(
        session,
        orders=dbt.ref("fct_orders"),
        lines=dbt.ref("fct_order_lines"),
        touchpoints=dbt.ref("fct_touchpoints"),
    )
    plan = snapshot_plan(settings.as_of, settings.propensity_horizon_days)
    sql = snapshots_sql(tables["orders"], plan, order_lines=tables["lines"], touchpoints=tables["touchpoints"])
    return model_output(session, con.sql(sql))
