{{ kith_assert_source_columns('app', 'events') }}

with

source as (

    select * from {{ source('app', 'events') }}

),

renamed as (

    select
        -- ids
        event_id,
        device_id,
        user_id as shop_customer_id,

        -- strings
        event_name as event_type,
        platform,
        app_version,
        sku,

        -- timestamps
        occurred_at at time zone 'UTC' as occurred_at,
        received_at at time zone 'UTC' as received_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source
    -- append entity: a resent event repeats its event_id; keep the first copy received
    qualify
        row_number() over (
            partition by event_id
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1

)

select * from renamed
