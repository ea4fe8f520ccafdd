-- The total rows of both metrics marts are the sums of their parts for every additive column
-- (counts of orders and customers in one segment and channel, amounts): per month for
-- fct_metrics_monthly, over everything for dim_metrics_by_segment.
with

monthly_parts as (

    select
        month_start_date,
        sum(order_count) as order_count,
        sum(gross_sales_amount) as gross_sales_amount,
        sum(returned_amount) as returned_amount,
        sum(revenue_amount) as revenue_amount
    from {{ ref('fct_metrics_monthly') }}
    where not is_total
    group by 1

),

monthly_totals as (

    select * from {{ ref('fct_metrics_monthly') }}
    where order_channel = 'all' and rfm_segment = 'all'

),

segment_parts as (

    select
        sum(customer_count) as customer_count,
        sum(buyer_count) as buyer_count,
        sum(active_customer_count) as active_customer_count,
        sum(repeat_customer_count) as repeat_customer_count,
        sum(order_count) as order_count,
        sum(gross_sales_amount) as gross_sales_amount,
        sum(revenue_amount) as revenue_amount,
        sum(valued_customer_count) as valued_customer_count
    from {{ ref('dim_metrics_by_segment') }}
    where not is_total

),

segment_total as (

    select * from {{ ref('dim_metrics_by_segment') }}
    where rfm_segment = 'all' and customer_channel = 'all'

),

monthly_mismatches as (

    select
        'fct_metrics_monthly' as model_name,
        coalesce(monthly_parts.month_start_date, monthly_totals.month_start_date) as month_start_date
    from monthly_parts
    full outer join monthly_totals
        on monthly_parts.month_start_date = monthly_totals.month_start_date
    where
        monthly_parts.order_count is distinct from monthly_totals.order_count
        or monthly_parts.gross_sales_amount is distinct from monthly_totals.gross_sales_amount
        or monthly_parts.returned_amount is distinct from monthly_totals.returned_amount
        or monthly_parts.revenue_amount is distinct from monthly_totals.revenue_amount

),

segment_mismatches as (

    select
        'dim_metrics_by_segment' as model_name,
        cast(null as date) as month_start_date
    from segment_parts
    full outer join segment_total
        on true
    where
        segment_parts.customer_count is distinct from segment_total.customer_count
        or segment_parts.buyer_count is distinct from segment_total.buyer_count
        or segment_parts.active_customer_count is distinct from segment_total.active_customer_count
        or segment_parts.repeat_customer_count is distinct from segment_total.repeat_customer_count
        or segment_parts.order_count is distinct from segment_total.order_count
        or segment_parts.gross_sales_amount is distinct from segment_total.gross_sales_amount
        or segment_parts.revenue_amount is distinct from segment_total.revenue_amount
        or segment_parts.valued_customer_count is distinct from segment_total.valued_customer_count

),

mismatches as (

    select * from monthly_mismatches
    union all
    select * from segment_mismatches

)

select * from mismatches
