-- No recommendation is a product the customer already bought (an order on or before the as-of
-- date that was not cancelled), and every recommended product has stock in the latest inventory
-- snapshot on or before the as-of date. Derived here from fct_order_lines and the stock model.
with

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

int_product_stock_snapshots as (

    select * from {{ ref('int_product_stock_snapshots') }}

),

fct_product_recommendations as (

    select * from {{ ref('fct_product_recommendations') }}

),

bought as (

    select distinct
        fct_order_lines.customer_id,
        fct_order_lines.sku
    from fct_order_lines
    cross join dim_scoring_as_of
    where
        not fct_order_lines.is_cancelled
        and fct_order_lines.order_date <= dim_scoring_as_of.as_of_date

),

latest_snapshot as (

    select max(int_product_stock_snapshots.snapshot_date) as snapshot_date
    from int_product_stock_snapshots
    cross join dim_scoring_as_of
    where int_product_stock_snapshots.snapshot_date <= dim_scoring_as_of.as_of_date

),

in_stock as (

    select int_product_stock_snapshots.sku
    from int_product_stock_snapshots
    inner join latest_snapshot
        on int_product_stock_snapshots.snapshot_date = latest_snapshot.snapshot_date
    where int_product_stock_snapshots.quantity_on_hand > 0

),

violations as (

    select
        fct_product_recommendations.customer_id,
        fct_product_recommendations.sku,
        'already bought' as problem
    from fct_product_recommendations
    inner join bought
        on
            fct_product_recommendations.customer_id = bought.customer_id
            and fct_product_recommendations.sku = bought.sku

    union all

    select
        fct_product_recommendations.customer_id,
        fct_product_recommendations.sku,
        'not in stock' as problem
    from fct_product_recommendations
    left join in_stock
        on fct_product_recommendations.sku = in_stock.sku
    where in_stock.sku is null

)

select * from violations
