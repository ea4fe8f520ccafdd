-- The orders the metrics count, one row per order that was not cancelled: its channel, amounts,
-- the customer's RFM segment and the order's place in the customer's purchase history (first or
-- repeat). The semantic layer's `orders` model and the metrics marts read it, so every metric has
-- one definition. Definitions: _metrics__docs.md.
with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

dim_customer_scores as (

    select * from {{ ref('dim_customer_scores') }}

),

counted_orders as (

    select * from fct_orders
    where not is_cancelled

),

orders_numbered as (

    select
        *,
        -- orders without a customer are numbered too (as one partition), and the number dropped below
        row_number() over (partition by customer_id order by ordered_at asc, order_id asc) as customer_order_number
    from counted_orders

),

orders_segmented as (

    select
        -- ids
        orders_numbered.order_id,
        orders_numbered.customer_id,

        -- strings
        orders_numbered.order_channel,
        case
            when orders_numbered.customer_id is null then 'unresolved'
            else coalesce(dim_customer_scores.rfm_segment, 'unscored')
        end as rfm_segment,

        -- numerics
        case
            when orders_numbered.customer_id is not null then cast(orders_numbered.customer_order_number as integer)
        end as customer_order_number,
        orders_numbered.paid_amount,
        orders_numbered.returned_amount,
        orders_numbered.net_amount,

        -- booleans
        orders_numbered.customer_id is not null and orders_numbered.customer_order_number > 1 as is_repeat_order,

        -- dates
        orders_numbered.order_date,
        cast(date_trunc('month', orders_numbered.order_date) as date) as order_month_date,

        -- timestamps
        orders_numbered.ordered_at

    from orders_numbered
    left join dim_customer_scores
        on orders_numbered.customer_id = dim_customer_scores.customer_id

)

select * from orders_segmented
