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
        'high value (top ' || cast(greatest(1, ceil(100 * (1 - value_percentile))) as integer) || '%), '
        || coalesce('segment ' || rfm_segment, 'slipping')
        || coalesce(', ' || days_since_last_order || ' days since the last order', '') as audience_reason,
        rfm_segment,
        value_amount,
        probability_alive,
        days_since_last_order
    from dim_audience_candidates
    where is_high_value and is_at_risk

)

select * from members
