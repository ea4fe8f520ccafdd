{{ kith_assert_source_columns('pos', 'transaction_lines') }}

with

source as (

    select * from {{ source('pos', 'transaction_lines') }}

),

renamed as (

    select
        -- ids
        transaction_id || '-' || cast(line_number as {{ kith_type_string() }}) as transaction_line_id,
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
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent store file repeats its lines; keep the first copy received
    {{ kith_keep_first_copy_received('transaction_id, line_number') }}

)

select * from renamed
