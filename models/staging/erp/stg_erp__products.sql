{{ kith_assert_source_columns('erp', 'products') }}

with

source as (

    select * from {{ source('erp', 'products') }}

),

renamed as (

    select
        -- ids
        sku,
        style_id,

        -- strings
        product_name,
        brand,
        category,
        subcategory,
        size,
        colour,
        coalesce(nullif(upper(trim(currency)), ''), 'GBP') as currency_code,

        -- numerics
        list_price,
        unit_cost,

        -- booleans
        is_limited_edition,

        -- dates
        launched_on as launch_date,

        -- timestamps
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
