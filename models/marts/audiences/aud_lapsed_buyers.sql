-- Reactivation: customers who have bought before but not for more than `kith__lapsed_after_days`
-- days. High-value customers at risk are left to the win-back audience, so nobody gets both.
with

dim_audience_candidates as (

    select * from {{ ref('dim_audience_candidates') }}

),

members as (

    select
        customer_id,
        email,
        phone_e164,
        'no order for ' || days_since_last_order || ' days (last ' || strftime(last_order_date, '%Y-%m-%d') || ')'
            as audience_reason,
        favourite_category,
        last_order_date,
        days_since_last_order
    from dim_audience_candidates
    where is_lapsed and not (is_high_value and is_at_risk)

)

select * from members
