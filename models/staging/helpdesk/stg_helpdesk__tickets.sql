{{ kith_assert_source_columns('helpdesk', 'tickets') }}

with

source as (

    select * from {{ source('helpdesk', 'tickets') }}

),

renamed as (

    select
        -- ids
        ticket_id,

        -- strings
        channel as ticket_channel,
        {{ normalize_email('requester_email') }} as requester_email,
        {{ canonical_email('requester_email') }} as requester_canonical_email,
        {{ normalize_phone_e164('requester_phone') }} as requester_phone_e164,
        {{ normalize_name('requester_name') }} as requester_name,
        topic,
        subject,
        status as ticket_status,
        {{ squish_whitespace('order_reference') }} as order_reference,

        -- numerics
        satisfaction_score,

        -- booleans
        {{ is_junk_identifier('email', normalize_email('requester_email')) }} as is_requester_email_junk,
        {{ is_junk_identifier('phone', normalize_phone_e164('requester_phone'), raw_column='requester_phone') }}
            as is_requester_phone_junk,
        {{ is_junk_identifier('name', normalize_name('requester_name')) }} as is_requester_name_junk,

        -- timestamps
        {{ kith_utc_timestamp('created_at') }} as created_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
