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
        {{ kith_utc_timestamp('created_at') }} as created_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent entry repeats its ledger_entry_id; keep the first copy received
    {{ kith_keep_first_copy_received('ledger_entry_id') }}

)

select * from renamed
