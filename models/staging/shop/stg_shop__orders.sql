{{ kith_assert_source_columns('shop', 'orders') }}

with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        -- ids
        order_id,
        shop_customer_id,
        anonymous_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        {{ normalize_phone_e164('phone') }} as phone_e164,
        status as order_status,
        coalesce(nullif(upper(trim(currency)), ''), 'GBP') as currency_code,
        payment_method,
        {{ normalize_postcode('shipping_postcode') }} as shipping_postcode,
        {{ squish_whitespace('shipping_city') }} as shipping_city,

        -- numerics
        subtotal_amount,
        discount_amount,
        shipping_amount,
        total_amount,

        -- booleans
        shop_customer_id is null as is_guest_checkout,
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('phone'), raw_column='phone') }} as is_phone_junk,
        {{ is_junk_identifier('postcode', normalize_postcode('shipping_postcode')) }} as is_shipping_postcode_junk,

        -- timestamps
        {{ kith_utc_timestamp('ordered_at') }} as ordered_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
