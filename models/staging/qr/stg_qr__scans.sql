{{ kith_assert_source_columns('qr', 'scans') }}

with

source as (

    select * from {{ source('qr', 'scans') }}

),

renamed as (

    select
        -- ids
        scan_id,
        anonymous_id,
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,
        store_id,
        sku,

        -- strings
        qr_campaign,

        -- booleans
        {{ is_junk_identifier('loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as is_loyalty_number_junk,

        -- timestamps
        {{ kith_utc_timestamp('scanned_at') }} as scanned_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent scan repeats its scan_id; keep the first copy received
    {{ kith_keep_first_copy_received('scan_id') }}

)

select * from renamed
