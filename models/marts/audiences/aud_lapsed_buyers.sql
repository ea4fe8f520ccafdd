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
        -- stable wording (no day count): a reason that changes daily re-sends every member daily
        'no order since ' || {{ kith_format_date('last_order_date', '%Y-%m-%d') }} as audience_reason,
        favourite_category,
        last_order_date
    from dim_audience_candidates
    where is_lapsed and not (is_high_value and is_at_risk)

)

select * from members
