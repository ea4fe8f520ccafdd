"""Point-in-time features of every customer: at the scores' as-of date, and one and two propensity
horizons earlier with the outcome that followed (the propensity model's training snapshots).

Pure SQL run by DuckDB (kith/scoring/features.py, tests/scoring/test_features.py): no order or
touchpoint leaves the database; the relation is materialised as it is.
"""

from kith.scoring.features import snapshot_plan, snapshots_sql
from kith.scoring.pipeline import read_settings


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("dim_scoring_as_of"))
    orders = f"({dbt.ref('fct_orders').sql_query()})"
    lines = f"({dbt.ref('fct_order_lines').sql_query()})"
    touchpoints = f"({dbt.ref('fct_touchpoints').sql_query()})"
    plan = snapshot_plan(settings.as_of, settings.propensity_horizon_days)
    return session.sql(snapshots_sql(orders, plan, order_lines=lines, touchpoints=touchpoints))
