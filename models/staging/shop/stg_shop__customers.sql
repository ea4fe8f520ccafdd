{{ kith_assert_source_columns('shop', 'customers') }}

with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        -- ids
        shop_customer_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        {{ normalize_name('first_name') }} as first_name,
        {{ normalize_name('last_name') }} as last_name,
        {{ normalize_phone_e164('phone') }} as phone_e164,

        -- booleans
        accepts_marketing as has_accepted_marketing,
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,
        {{ is_junk_identifier('name', normalize_name('first_name')) }} as is_first_name_junk,
        {{ is_junk_identifier('name', normalize_name('last_name')) }} as is_last_name_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('phone'), raw_column='phone') }} as is_phone_junk,

        -- timestamps
        {{ kith_utc_timestamp('created_at') }} as created_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
