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
        updated_at at time zone 'UTC' as updated_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source

)

select * from renamed
