{{ kith_assert_source_columns('erp', 'inventory') }}

with

source as (

    select * from {{ source('erp', 'inventory') }}

),

renamed as (

    select
        -- ids
        {{ kith_format_date('snapshot_date', '%Y-%m-%d') }} || '|' || location_id || '|' || sku
            as inventory_snapshot_id,
        location_id,
        case when location_id <> 'WEB' then location_id end as store_id,
        sku,

        -- numerics
        quantity_on_hand,
        quantity_on_order,

        -- booleans
        location_id = 'WEB' as is_online_warehouse,

        -- dates
        snapshot_date,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
