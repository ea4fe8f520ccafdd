{{ kith_assert_source_columns('pos', 'transaction_lines') }}

with

source as (

    select * from {{ source('pos', 'transaction_lines') }}

),

renamed as (

    select
        -- ids
        transaction_id || '-' || cast(line_number as varchar) as transaction_line_id,
        transaction_id,

        -- strings
        sku,

        -- numerics
        line_number,
        quantity,
        unit_list_price,
        unit_price,
        discount_amount,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source
    -- append entity: a resent store file repeats its lines; keep the first copy received
    qualify
        row_number() over (
            partition by transaction_id, line_number
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1

)

select * from renamed
