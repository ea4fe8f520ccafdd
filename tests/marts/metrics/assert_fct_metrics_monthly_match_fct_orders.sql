-- The monthly metrics agree with fct_orders, recomputed here without fct_metric_orders: per month
-- and channel (and per month over both), the orders that were not cancelled give the same order
-- count, gross sales, returns, revenue, active customers and repeat customers (a repeat order is
-- any but the customer's first that was not cancelled).
with

counted_orders as (

    select
        customer_id,
        order_channel,
        paid_amount,
        returned_amount,
        net_amount,
        date_trunc('month', order_date) as month_start_date,
        ordered_at,
        order_id
    from {{ ref('fct_orders') }}
    where not is_cancelled

),

first_orders as (

    select
        customer_id,
        min((ordered_at, order_id)) as first_order
    from counted_orders
    where customer_id is not null
    group by 1

),

flagged as (

    select
        counted_orders.*,
        (counted_orders.ordered_at, counted_orders.order_id) != first_orders.first_order as is_repeat
    from counted_orders
    left join first_orders
        on counted_orders.customer_id = first_orders.customer_id

),

expected as (

    select
        month_start_date,
        coalesce(order_channel, 'all') as order_channel,
        count(*) as order_count,
        sum(paid_amount) as gross_sales_amount,
        sum(returned_amount) as returned_amount,
        sum(net_amount) as revenue_amount,
        count(distinct customer_id) as active_customer_count,
        count(distinct case when is_repeat then customer_id end) as repeat_customer_count
    from flagged
    group by month_start_date, rollup(order_channel)  -- noqa: AM06

),

actual as (

    select * from {{ ref('fct_metrics_monthly') }}
    where rfm_segment = 'all'

),

mismatches as (

    select
        coalesce(expected.month_start_date, actual.month_start_date) as month_start_date,
        coalesce(expected.order_channel, actual.order_channel) as order_channel,
        expected.order_count as expected_order_count,
        actual.order_count,
        expected.revenue_amount as expected_revenue_amount,
        actual.revenue_amount,
        expected.repeat_customer_count as expected_repeat_customer_count,
        actual.repeat_customer_count
    from expected
    full outer join actual
        on
            expected.month_start_date = actual.month_start_date
            and expected.order_channel = actual.order_channel
    where
        expected.order_count is distinct from actual.order_count
        or expected.gross_sales_amount is distinct from actual.gross_sales_amount
        or expected.returned_amount is distinct from actual.returned_amount
        or expected.revenue_amount is distinct from actual.revenue_amount
        or expected.active_customer_count is distinct from actual.active_customer_count
        or expected.repeat_customer_count is distinct from actual.repeat_customer_count

)

select * from mismatches
