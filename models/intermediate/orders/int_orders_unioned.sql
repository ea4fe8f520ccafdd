{{ config(materialized='view') }}
-- Shop orders and till transactions in one grain: the order headers that fct_orders and
-- fct_order_lines share. The source ids cannot collide (`SO` + digits and `T` + digits), so they
-- are kept as they are and still join to returns and the id map (through `identifier_type`).
-- A view: the marts filter it (incremental windows), so it is never copied.
with

stg_shop__orders as (

    select * from {{ ref('stg_shop__orders') }}

),

stg_pos__transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

orders_unioned as (

    select
        order_id,
        'online' as order_channel,
        'order_id' as identifier_type,
        cast(null as {{ kith_type_string() }}) as store_id,
        ordered_at,
        order_status as status,
        payment_method,
        currency_code,
        -- the shop's subtotal is the lines at the price paid, before the promotion discount
        subtotal_amount,
        discount_amount,
        shipping_amount,
        total_amount,
        dlt_loaded_at
    from stg_shop__orders

    union all

    select
        transaction_id as order_id,
        'store' as order_channel,
        'pos_transaction_id' as identifier_type,
        store_id,
        transacted_at as ordered_at,
        'completed' as status,
        payment_method,
        currency_code,
        -- the till's total is after the discount (line discounts and loyalty point redemptions)
        total_amount + discount_amount as subtotal_amount,
        discount_amount,
        0 as shipping_amount,
        total_amount,
        dlt_loaded_at
    from stg_pos__transactions

)

select * from orders_unioned
