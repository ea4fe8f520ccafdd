{{ kith_assert_source_columns('erp', 'stores') }}

with

source as (

    select * from {{ source('erp', 'stores') }}

),

renamed as (

    select
        -- ids
        store_id,

        -- strings
        store_name,
        city,
        {{ normalize_postcode('postcode') }} as postcode,
        timezone as timezone_name,

        -- numerics
        latitude,
        longitude,

        -- dates
        opened_on as opening_date,

        -- timestamps
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
