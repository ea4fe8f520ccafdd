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
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
