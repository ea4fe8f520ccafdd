{{ kith_assert_source_columns('erp', 'returns') }}

with

source as (

    select * from {{ source('erp', 'returns') }}

),

renamed as (

    select
        -- ids
        return_id,
        reference_id,
        case when reference_type = 'order' then reference_id end as order_id,
        case when reference_type = 'pos_transaction' then reference_id end as transaction_id,
        sku,
        store_id,

        -- strings
        reference_type,
        reason as return_reason,
        refund_method,

        -- numerics
        quantity,
        refund_amount,

        -- booleans
        store_id is not null as is_returned_in_store,

        -- timestamps
        {{ kith_utc_timestamp('returned_at') }} as returned_at,
        {{ kith_utc_timestamp('updated_at') }} as updated_at,

        -- lineage
        {{ kith_lineage_columns() }}

    from source

)

select * from renamed
