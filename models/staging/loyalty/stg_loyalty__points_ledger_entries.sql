{{ kith_assert_source_columns('loyalty', 'points_ledger') }}

with

source as (

    select * from {{ source('loyalty', 'points_ledger') }}

),

renamed as (

    select
        -- ids
        ledger_entry_id,
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,
        reference_id,

        -- strings
        entry_type,

        -- numerics
        points,

        -- booleans
        {{ is_junk_identifier('loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as is_loyalty_number_junk,

        -- timestamps
        created_at at time zone 'UTC' as created_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source
    -- append entity: a resent entry repeats its ledger_entry_id; keep the first copy received
    qualify
        row_number() over (
            partition by ledger_entry_id
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1

)

select * from renamed
