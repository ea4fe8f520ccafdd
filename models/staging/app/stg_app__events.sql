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
        {{ kith_utc_timestamp('occurred_at') }} as occurred_at,
        {{ kith_utc_timestamp('received_at') }} as received_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent event repeats its event_id; keep the first copy received
    {{ kith_keep_first_copy_received('event_id') }}

)

select * from renamed
