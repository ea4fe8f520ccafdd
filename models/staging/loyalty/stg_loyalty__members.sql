{{ kith_assert_source_columns('loyalty', 'members') }}

with

source as (

    select * from {{ source('loyalty', 'members') }}

),

renamed as (

    select
        -- ids
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,
        home_store_id,

        -- strings
        {{ normalize_name('first_name') }} as first_name,
        {{ normalize_name('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        {{ normalize_phone_e164('phone') }} as phone_e164,
        {{ normalize_postcode('postcode') }} as postcode,
        tier as loyalty_tier,

        -- numerics
        points_balance,

        -- booleans
        {{ is_junk_identifier('loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as is_loyalty_number_junk,
        {{ is_junk_identifier('name', normalize_name('first_name')) }} as is_first_name_junk,
        {{ is_junk_identifier('name', normalize_name('last_name')) }} as is_last_name_junk,
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('phone'), raw_column='phone') }} as is_phone_junk,
        {{ is_junk_identifier('postcode', normalize_postcode('postcode')) }} as is_postcode_junk,

        -- dates
        date_of_birth as birth_date,

        -- timestamps
        {{ kith_utc_timestamp('enrolled_at') }} as enrolled_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
