-- The segment metrics agree with the scores they segment: per RFM segment, the buyers are the
-- customers scored in it, the repeat customers those with two or more orders, the gross sales
-- their paid amount and the 12-month CLV their sum; over all segments every customer of
-- dim_customers counts once.
with

scores as (

    select
        rfm_segment,
        count(*) as buyer_count,
        count(*) filter (where order_count >= 2) as repeat_customer_count,
        sum(order_count) as order_count,
        sum(paid_amount) as gross_sales_amount,
        sum(lifetime_value_12m) as lifetime_value_12m_amount
    from {{ ref('dim_customer_scores') }}
    group by 1

),

customers as (

    select
        'all' as rfm_segment,
        count(*) as customer_count
    from {{ ref('dim_customers') }}

),

actual as (

    select * from {{ ref('dim_metrics_by_segment') }}
    where customer_channel = 'all'

),

mismatches as (

    select
        actual.rfm_segment,
        scores.buyer_count as expected_buyer_count,
        actual.buyer_count,
        customers.customer_count as expected_customer_count,
        actual.customer_count
    from actual
    left join scores
        on actual.rfm_segment = scores.rfm_segment
    left join customers
        on actual.rfm_segment = customers.rfm_segment
    where
        actual.rfm_segment not in ('all', 'unscored')
        and (
            scores.buyer_count is distinct from actual.buyer_count
            or scores.repeat_customer_count is distinct from actual.repeat_customer_count
            or scores.order_count is distinct from actual.order_count
            or scores.gross_sales_amount is distinct from actual.gross_sales_amount
            or scores.lifetime_value_12m_amount is distinct from actual.lifetime_value_12m_amount
        )
        or actual.rfm_segment = 'all' and customers.customer_count is distinct from actual.customer_count
        or actual.rfm_segment = 'unscored' and actual.buyer_count != 0

)

select * from mismatches
