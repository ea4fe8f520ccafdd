"""Top-N products per customer from customer-level co-purchase lift, among the SKUs in stock in
the latest inventory snapshot on or before the as-of date, never one the customer already bought.

Distinct (customer, SKU) pairs and the in-stock SKUs are selected in SQL; lift and ranking are
sparse matrix products (kith/scoring/recommend.py, kith/scoring/pipeline.py; tests in
tests/scoring/). Published by fct_product_recommendations.
"""

from kith.scoring.features import customer_items_sql, in_stock_skus_sql
from kith.scoring.pipeline import read_settings, recommend_in_stock


def model(dbt, session):
    dbt.config(materialized="table")
    settings = read_settings(dbt.ref("dim_scoring_as_of"))
    lines = f"({dbt.ref('fct_order_lines').sql_query()})"
    stock = f"({dbt.ref('int_product_stock_snapshots').sql_query()})"
    purchases = session.sql(customer_items_sql(lines, settings.as_of)).df()
    in_stock = [row[0] for row in session.sql(in_stock_skus_sql(stock, settings.as_of)).fetchall()]
    return recommend_in_stock(
        purchases,
        in_stock,
        n=settings.recommendations_per_customer,
        min_pair_count=settings.recommendation_min_pair_count,
    )
