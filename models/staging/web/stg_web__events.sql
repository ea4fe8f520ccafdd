{{ kith_assert_source_columns('web', 'events') }}

with

source as (

    select * from {{ source('web', 'events') }}

),

renamed as (

    select
        -- ids
        event_id,
        anonymous_id,
        user_id as shop_customer_id,

        -- strings
        event_type,
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        page_url,
        page_path,
        referrer as referrer_url,
        sku,
        device_type,
        user_agent,
        ip_address,
        utm_source,
        utm_medium,
        utm_campaign,

        -- numerics
        product_price,

        -- booleans
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,

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
