{{ kith_assert_source_columns('crm', 'contacts') }}

with

source as (

    select * from {{ source('crm', 'contacts') }}

),

renamed as (

    select
        -- ids
        crm_id,

        -- strings
        {{ normalize_name('first_name') }} as first_name,
        {{ normalize_name('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        {{ normalize_phone_e164('phone', country_column='country') }} as phone_e164,
        {{ squish_whitespace('address_line1') }} as address_line1,
        {{ squish_whitespace('city') }} as city,
        {{ normalize_postcode('postcode') }} as postcode,
        nullif(upper(trim(country)), '') as country_code,

        -- booleans
        email_opt_in as is_email_opted_in,
        sms_opt_in as is_sms_opted_in,
        {{ is_junk_identifier('name', normalize_name('first_name')) }} as is_first_name_junk,
        {{ is_junk_identifier('name', normalize_name('last_name')) }} as is_last_name_junk,
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('phone', country_column='country'), raw_column='phone') }}
            as is_phone_junk,
        {{ is_junk_identifier('postcode', normalize_postcode('postcode')) }} as is_postcode_junk,

        -- dates
        date_of_birth as birth_date,

        -- timestamps
        {{ kith_utc_timestamp('created_at') }} as created_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
