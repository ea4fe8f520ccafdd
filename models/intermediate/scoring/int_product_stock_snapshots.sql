-- Stock of every SKU on every inventory day, summed over the online warehouse and the stores, with
-- the product's catalogue attributes. Recommendations keep only SKUs in stock in the latest
-- snapshot on or before the scores' as-of date.
with

stg_erp__inventory_snapshots as (

    select * from {{ ref('stg_erp__inventory_snapshots') }}

),

stg_erp__products as (

    select * from {{ ref('stg_erp__products') }}

),

stock_summed as (

    select
        snapshot_date,
        sku,
        -- a negative count (a stock error) holds nothing
        sum(greatest(quantity_on_hand, 0)) as quantity_on_hand,
        coalesce(sum(greatest(quantity_on_hand, 0)) filter (where is_online_warehouse), 0) as online_quantity_on_hand,
        count(*) filter (where quantity_on_hand > 0) as locations_in_stock
    from stg_erp__inventory_snapshots
    group by 1, 2

),

stock_described as (

    select
        -- ids
        stock_summed.sku,

        -- strings
        stg_erp__products.product_name,
        stg_erp__products.brand,
        stg_erp__products.category,

        -- numerics
        cast(stock_summed.quantity_on_hand as integer) as quantity_on_hand,
        cast(stock_summed.online_quantity_on_hand as integer) as online_quantity_on_hand,
        cast(stock_summed.locations_in_stock as integer) as locations_in_stock,

        -- booleans
        stock_summed.quantity_on_hand > 0 as is_in_stock,

        -- dates
        stock_summed.snapshot_date

    from stock_summed
    left join stg_erp__products
        on stock_summed.sku = stg_erp__products.sku

)

select * from stock_described
