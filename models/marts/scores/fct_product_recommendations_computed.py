"""Top-N products per customer from customer-level co-purchase lift, among the SKUs in stock in
the latest inventory snapshot on or before the as-of date, never one the customer already bought.

Distinct (customer, SKU) pairs and the in-stock SKUs are selected in SQL; lift and ranking are
sparse matrix products (kith/scoring/recommend.py, kith/scoring/pipeline.py; tests in
tests/scoring/). Published by fct_product_recommendations.
"""

from kith.frames import model_output, relations, sql_tables
from kith.scoring.features import customer_items_sql, in_stock_skus_sql
from kith.scoring.pipeline import read_settings, recommend_in_stock


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(relations(session)(dbt.ref("dim_scoring_as_of")))
    con, tables = sql_tables(session, lines=dbt.ref("fct_order_lines"), stock=dbt.ref("int_product_stock_snapshots"))
    purchases = con.sql(customer_items_sql(tables["lines"], settings.as_of)).df()
    in_stock = [row[0] for row in con.sql(in_stock_skus_sql(tables["stock"], settings.as_of)).fetchall()]
    recommendations = recommend_in_stock(
        purchases,
        in_stock,
        n=settings.recommendations_per_customer,
        min_pair_count=settings.recommendation_min_pair_count,
    )
    return model_output(session, recommendations)
