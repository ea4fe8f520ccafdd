-- Win-back: high-value customers at risk of churning (RFM `at_risk` or `cannot_lose`, or a
-- probability of still being active below one half).
with

dim_audience_candidates as (

    select * from {{ ref('dim_audience_candidates') }}

),

members as (

    select
        customer_id,
        email,
        phone_e164,
        -- stable wording (no day counts or percentiles): a member whose reason changes every day
        -- would be re-sent to every destination every day
        'high value, ' || coalesce('segment ' || rfm_segment, 'slipping')
        || coalesce(', last order ' || {{ kith_format_date('last_order_date', '%Y-%m-%d') }}, '') as audience_reason,
        rfm_segment,
        value_amount,
        last_order_date
    from dim_audience_candidates
    where is_high_value and is_at_risk

)

select * from members
