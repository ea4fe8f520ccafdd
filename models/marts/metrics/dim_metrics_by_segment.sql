-- The customer metrics as of one day, by RFM segment and by the channels a customer buys in
-- (online, store, omnichannel, none): customers, active and repeat customers, orders, gross sales,
-- returns, revenue, average order value, repeat-purchase and return rates and the 12-month CLV.
-- Every customer of dim_customers counts once, in one segment and one channel; a cube adds
-- the totals (`all`). Orders count up to the as-of day (`kith_as_of_date()`), as the scores do.
-- Definitions: _metrics__docs.md.
{%- set lapsed_after_days = var('kith__lapsed_after_days') | int %}

with

fct_metric_orders as (

    select * from {{ ref('fct_metric_orders') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

dim_customer_scores as (

    select * from {{ ref('dim_customer_scores') }}

),

as_of as (

    select {{ kith_as_of_date() }} as as_of_date

),

purchases as (

    select
        fct_metric_orders.customer_id,
        count(*) as order_count,
        count(*) filter (where fct_metric_orders.order_channel = 'online') as online_order_count,
        count(*) filter (where fct_metric_orders.order_channel = 'store') as store_order_count,
        sum(fct_metric_orders.paid_amount) as gross_sales_amount,
        sum(fct_metric_orders.returned_amount) as returned_amount,
        sum(fct_metric_orders.net_amount) as revenue_amount,
        max(fct_metric_orders.order_date) as last_order_date
    from fct_metric_orders
    cross join as_of
    where
        fct_metric_orders.customer_id is not null
        and fct_metric_orders.order_date <= as_of.as_of_date
    group by 1

),

customers_classified as (

    select
        dim_customers.customer_id,
        dim_customers.is_known,
        dim_customer_scores.lifetime_value_12m,
        coalesce(dim_customer_scores.rfm_segment, 'unscored') as rfm_segment,
        case
            when purchases.online_order_count > 0 and purchases.store_order_count > 0 then 'omnichannel'
            when purchases.online_order_count > 0 then 'online'
            when purchases.store_order_count > 0 then 'store'
            else 'none'
        end as customer_channel,
        coalesce(purchases.order_count, 0) as order_count,
        coalesce(purchases.gross_sales_amount, 0) as gross_sales_amount,
        coalesce(purchases.returned_amount, 0) as returned_amount,
        coalesce(purchases.revenue_amount, 0) as revenue_amount,
        coalesce(purchases.order_count, 0) >= 2 as is_repeat_customer,
        -- bought within the lapse window (audiences: lapsed after `kith__lapsed_after_days` days)
        coalesce(
            {{ kith_days_between('purchases.last_order_date', 'as_of.as_of_date') }} <= {{ lapsed_after_days }}, false
        ) as is_active
    from dim_customers
    cross join as_of
    left join purchases
        on dim_customers.customer_id = purchases.customer_id
    left join dim_customer_scores
        on dim_customers.customer_id = dim_customer_scores.customer_id

),

aggregated as (

    select
        rfm_segment,
        customer_channel,
        grouping(rfm_segment) as is_all_segments,
        grouping(customer_channel) as is_all_channels,
        count(*) as customer_count,
        count(*) filter (where is_known) as known_customer_count,
        count(*) filter (where order_count > 0) as buyer_count,
        count(*) filter (where is_active) as active_customer_count,
        count(*) filter (where is_repeat_customer) as repeat_customer_count,
        sum(order_count) as order_count,
        sum(gross_sales_amount) as gross_sales_amount,
        sum(returned_amount) as returned_amount,
        sum(revenue_amount) as revenue_amount,
        count(lifetime_value_12m) as valued_customer_count,
        sum(lifetime_value_12m) as lifetime_value_12m_amount
    from customers_classified
    -- each segment x channel, each segment, each channel and the total (names read better than
    -- positions in a cube)
    group by cube(rfm_segment, customer_channel)  -- noqa: AM06
    -- without customers the cube would still give an empty total row: no customers, no rows
    having count(*) > 0

),

measured as (

    select
        -- strings
        case when aggregated.is_all_segments = 1 then 'all' else aggregated.rfm_segment end as rfm_segment,
        case when aggregated.is_all_channels = 1 then 'all' else aggregated.customer_channel end as customer_channel,

        -- numerics
        cast(aggregated.customer_count as integer) as customer_count,
        cast(aggregated.known_customer_count as integer) as known_customer_count,
        cast(aggregated.buyer_count as integer) as buyer_count,
        cast(aggregated.active_customer_count as integer) as active_customer_count,
        cast(aggregated.repeat_customer_count as integer) as repeat_customer_count,
        cast(aggregated.order_count as integer) as order_count,
        cast(aggregated.gross_sales_amount as decimal(18, 2)) as gross_sales_amount,
        cast(aggregated.returned_amount as decimal(18, 2)) as returned_amount,
        cast(aggregated.revenue_amount as decimal(18, 2)) as revenue_amount,
        {{ kith_double_to_decimal(
            'cast(aggregated.gross_sales_amount as double) / nullif(aggregated.order_count, 0)', 18, 2
        ) }}
            as average_order_value,
        cast(aggregated.repeat_customer_count / nullif(aggregated.buyer_count, 0) as double)
            as repeat_purchase_rate,
        -- divided as doubles, as DuckDB divides decimals (Spark's decimal division keeps fewer digits)
        cast(cast(aggregated.returned_amount as double) / nullif(aggregated.gross_sales_amount, 0) as double)
            as return_rate,
        cast(aggregated.valued_customer_count as integer) as valued_customer_count,
        cast(aggregated.lifetime_value_12m_amount as decimal(18, 2)) as lifetime_value_12m_amount,
        {{ kith_double_to_decimal(
            'cast(aggregated.lifetime_value_12m_amount as double) / nullif(aggregated.valued_customer_count, 0)', 18, 2
        ) }}
            as average_lifetime_value_12m,

        -- booleans
        aggregated.is_all_segments = 1 or aggregated.is_all_channels = 1 as is_total,

        -- dates
        as_of.as_of_date

    from aggregated
    cross join as_of

)

select * from measured
