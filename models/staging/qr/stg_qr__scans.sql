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
        scanned_at at time zone 'UTC' as scanned_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source
    -- append entity: a resent scan repeats its scan_id; keep the first copy received
    qualify
        row_number() over (
            partition by scan_id
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1

)

select * from renamed
