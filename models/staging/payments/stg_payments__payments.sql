{{ kith_assert_source_columns('payments', 'payments') }}

with

source as (

    select * from {{ source('payments', 'payments') }}

),

renamed as (

    select
        -- ids
        payment_id,
        reference_id,
        case when reference_type = 'order' then reference_id end as order_id,
        case when reference_type = 'pos_transaction' then reference_id end as transaction_id,

        -- strings
        reference_type,
        payment_method,
        {{ normalize_card_token('card_token') }} as card_token,
        card_brand,
        card_last4,
        coalesce(nullif(upper(trim(currency)), ''), 'GBP') as currency_code,
        status as payment_status,

        -- numerics
        amount,

        -- booleans
        {{ is_junk_identifier('card_token', normalize_card_token('card_token')) }} as is_card_token_junk,

        -- timestamps
        {{ kith_utc_timestamp('processed_at') }} as processed_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
