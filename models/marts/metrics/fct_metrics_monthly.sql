-- The order metrics by calendar month, order channel and RFM segment, for BI without a semantic
-- layer: orders, active and repeat customers, gross sales, returns, revenue, average order value,
-- repeat-purchase and return rates. A cube adds the totals: `all` in order_channel and/or
-- rfm_segment marks a total row (distinct customers cannot be summed, so totals are computed, not
-- left to BI). Definitions: _metrics__docs.md.
with

fct_metric_orders as (

    select * from {{ ref('fct_metric_orders') }}

),

aggregated as (

    select
        order_month_date,
        order_channel,
        rfm_segment,
        grouping(order_channel) as is_all_channels,
        grouping(rfm_segment) as is_all_segments,
        count(*) as order_count,
        count(distinct customer_id) as active_customer_count,
        count(distinct customer_id) filter (where is_repeat_order) as repeat_customer_count,
        sum(paid_amount) as gross_sales_amount,
        sum(returned_amount) as returned_amount,
        sum(net_amount) as revenue_amount
    from fct_metric_orders
    -- every month: each channel x segment, each channel, each segment and the month's total
    -- (names read better than positions in a cube)
    group by order_month_date, cube(order_channel, rfm_segment)  -- noqa: AM06

),

measured as (

    select
        -- strings
        case when is_all_channels = 1 then 'all' else order_channel end as order_channel,
        case when is_all_segments = 1 then 'all' else rfm_segment end as rfm_segment,

        -- numerics
        cast(order_count as integer) as order_count,
        cast(active_customer_count as integer) as active_customer_count,
        cast(repeat_customer_count as integer) as repeat_customer_count,
        cast(gross_sales_amount as decimal(18, 2)) as gross_sales_amount,
        cast(returned_amount as decimal(18, 2)) as returned_amount,
        cast(revenue_amount as decimal(18, 2)) as revenue_amount,
        {{ kith_double_to_decimal('cast(gross_sales_amount as double) / order_count', 18, 2) }} as average_order_value,
        cast(repeat_customer_count / nullif(active_customer_count, 0) as double) as repeat_purchase_rate,
        -- divided as doubles, as DuckDB divides decimals (Spark's decimal division keeps fewer digits)
        cast(cast(returned_amount as double) / nullif(gross_sales_amount, 0) as double) as return_rate,

        -- booleans
        is_all_channels = 1 or is_all_segments = 1 as is_total,

        -- dates
        order_month_date as month_start_date

    from aggregated

)

select * from measured
