{{ kith_assert_source_columns('erp', 'inventory') }}

with

source as (

    select * from {{ source('erp', 'inventory') }}

),

renamed as (

    select
        -- ids
        strftime(snapshot_date, '%Y-%m-%d') || '|' || location_id || '|' || sku as inventory_snapshot_id,
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
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source

)

select * from renamed
