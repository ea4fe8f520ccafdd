{{ kith_assert_source_columns('pos', 'transactions') }}

with

source as (

    select * from {{ source('pos', 'transactions') }}

),

renamed as (

    select
        -- ids
        transaction_id,
        store_id,
        register_id,
        {{ normalize_loyalty_number('loyalty_number') }} as loyalty_number,

        -- strings
        {{ normalize_card_token('card_token') }} as card_token,
        payment_method,
        coalesce(nullif(upper(trim(currency)), ''), 'GBP') as currency_code,

        -- numerics
        total_amount,
        discount_amount,

        -- booleans
        {{ is_junk_identifier('loyalty_number', normalize_loyalty_number('loyalty_number')) }}
            as is_loyalty_number_junk,
        {{ is_junk_identifier('card_token', normalize_card_token('card_token')) }} as is_card_token_junk,

        -- dates
        business_date,

        -- timestamps
        {{ kith_utc_timestamp('transaction_time') }} as transacted_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source
    -- append entity: a resent store file repeats its transactions; keep the first copy received
    {{ kith_keep_first_copy_received('transaction_id') }}

)

select * from renamed
