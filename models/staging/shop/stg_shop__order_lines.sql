{{ kith_assert_source_columns('shop', 'order_lines') }}

with

source as (

    select * from {{ source('shop', 'order_lines') }}

),

renamed as (

    select
        -- ids
        order_line_id,
        order_id,

        -- strings
        sku,

        -- numerics
        quantity,
        unit_list_price,
        unit_price,
        discount_amount,

        -- timestamps
        updated_at at time zone 'UTC' as updated_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source

)

select * from renamed
