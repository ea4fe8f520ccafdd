{{ config(materialized='view') }}
-- Stock of every SKU at every location (stores and the online warehouse `WEB`) on every inventory
-- day, with the store's postcode area; a negative count (a stock error) holds nothing. Audiences
-- pick the latest day on or before their as-of date.
with

stg_erp__inventory_snapshots as (

    select * from {{ ref('stg_erp__inventory_snapshots') }}

),

stg_erp__stores as (

    select * from {{ ref('stg_erp__stores') }}

),

stock as (

    select
        stg_erp__inventory_snapshots.snapshot_date,
        stg_erp__inventory_snapshots.location_id,
        stg_erp__inventory_snapshots.store_id,
        stg_erp__inventory_snapshots.sku,
        greatest(stg_erp__inventory_snapshots.quantity_on_hand, 0) as quantity_on_hand,
        stg_erp__inventory_snapshots.is_online_warehouse,
        {{ postcode_area('stg_erp__stores.postcode') }} as store_postcode_area
    from stg_erp__inventory_snapshots
    left join stg_erp__stores
        on stg_erp__inventory_snapshots.store_id = stg_erp__stores.store_id

)

select * from stock
