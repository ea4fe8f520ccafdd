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
        transaction_time at time zone 'UTC' as transacted_at,

        -- lineage
        _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line

    from source
    -- append entity: a resent store file repeats its transactions; keep the first copy received
    qualify
        row_number() over (
            partition by transaction_id
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1

)

select * from renamed
