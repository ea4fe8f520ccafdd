-- Top products per customer (not yet bought, in stock at the as-of date), ranked by summed
-- co-purchase lift, with the product's catalogue attributes. Computed by
-- fct_product_recommendations_computed.
with

fct_product_recommendations_computed as (

    select * from {{ ref('fct_product_recommendations_computed') }}

),

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

int_product_stock_snapshots as (

    select * from {{ ref('int_product_stock_snapshots') }}

),

latest_stock as (

    {% call kith_qualify(
        "int_product_stock_snapshots.snapshot_date = max(int_product_stock_snapshots.snapshot_date) over ()"
    ) -%}
    select int_product_stock_snapshots.*
    from int_product_stock_snapshots
    cross join dim_scoring_as_of
    where int_product_stock_snapshots.snapshot_date <= dim_scoring_as_of.as_of_date
    {%- endcall %}

),

recommendations as (

    select
        -- ids
        cast(fct_product_recommendations_computed.customer_id as {{ kith_type_string() }}) as customer_id,
        cast(fct_product_recommendations_computed.sku as {{ kith_type_string() }}) as sku,

        -- strings
        latest_stock.product_name,
        latest_stock.brand,
        latest_stock.category,

        -- numerics
        cast(fct_product_recommendations_computed.recommendation_rank as integer) as recommendation_rank,
        cast(fct_product_recommendations_computed.score as double) as score,
        cast(latest_stock.quantity_on_hand as integer) as quantity_on_hand,

        -- dates
        dim_scoring_as_of.as_of_date,
        latest_stock.snapshot_date as stock_snapshot_date

    from fct_product_recommendations_computed
    cross join dim_scoring_as_of
    left join latest_stock
        on cast(fct_product_recommendations_computed.sku as {{ kith_type_string() }}) = latest_stock.sku

)

select * from recommendations
