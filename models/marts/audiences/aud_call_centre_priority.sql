-- Call-centre priority: loyal, high-value customers go to the front of the queue. The call centre's
-- telephony matches callers by phone number; `priority_rank` orders them (1 = most valuable).
with

dim_audience_candidates as (

    select * from {{ ref('dim_audience_candidates') }}

),

members as (

    select
        customer_id,
        email,
        phone_e164,
        'loyal (' || coalesce(loyalty_tier || ' tier', rfm_segment) || ') and high value' as audience_reason,
        loyalty_tier,
        value_amount,
        cast(row_number() over (order by value_amount desc, customer_id asc) as integer) as priority_rank
    from dim_audience_candidates
    where is_loyal and is_high_value

)

select * from members
