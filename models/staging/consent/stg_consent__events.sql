{{ kith_assert_source_columns('consent', 'events') }}

with

source as (

    select * from {{ source('consent', 'events') }}

),

renamed as (

    select
        -- ids
        consent_event_id,
        crm_id,
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,
        shop_customer_id,
        anonymous_id,

        -- strings
        {{ normalize_email('email') }} as email,
        {{ canonical_email('email') }} as canonical_email,
        {{ normalize_phone_e164('phone') }} as phone_e164,
        channel as consent_channel,
        purpose as consent_purpose,
        status as consent_status,
        source_system,

        -- booleans
        status = 'granted' as is_granted,
        {{ is_junk_identifier('email', normalize_email('email')) }} as is_email_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('phone'), raw_column='phone') }} as is_phone_junk,
        {{ is_junk_identifier('loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as is_loyalty_number_junk,

        -- timestamps
        {{ kith_utc_timestamp('occurred_at') }} as occurred_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent event repeats its consent_event_id; keep the first copy received
    {{ kith_keep_first_copy_received('consent_event_id') }}

)

select * from renamed
