{{ config(group='data_platform') }}
-- Every shop order and till transaction is exactly one row of fct_orders: none lost, none added.
with

source_orders as (

    select order_id from {{ ref('stg_shop__orders') }}
    union all
    select transaction_id as order_id from {{ ref('stg_pos__transactions') }}

),

fct_orders as (

    select order_id from {{ ref('fct_orders') }}

),

differences as (

    select
        coalesce(source_orders.order_id, fct_orders.order_id) as order_id,
        source_orders.order_id is null as is_only_in_fct_orders
    from source_orders
    full outer join fct_orders
        on source_orders.order_id = fct_orders.order_id
    where source_orders.order_id is null or fct_orders.order_id is null

)

select * from differences
