-- Every contactable customer (known, with an email or a phone) with the flags the audiences select
-- on, defined once: value tier, loyalty, churn risk, lapse. Value is what the customer has been
-- worth so far (net spend after returns, as of the as-of date), not the predicted CLV: a customer
-- slipping away has a low predicted value by construction, yet is exactly who win-back is for.
-- The top `kith__high_value_share` of customers with purchases are high value, the bottom
-- `kith__low_value_share` low value; customers without purchases are low value.
{%- set high_value_share = var('kith__high_value_share') | float %}
{%- set low_value_share = var('kith__low_value_share') | float %}
{%- set lapsed_after_days = var('kith__lapsed_after_days') | int %}

with

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

dim_customer_scores as (

    select * from {{ ref('dim_customer_scores') }}

),

dim_customer_traits as (

    select * from {{ ref('dim_customer_traits') }}

),

contactable as (

    select
        customer_id,
        email,
        phone_e164,
        first_name,
        loyalty_tier,
        home_store_id,
        {{ postcode_area('postcode') }} as postcode_area
    from dim_customers
    where is_known and (email is not null or phone_e164 is not null)

),

valued as (

    select
        customer_id,
        rfm_segment,
        probability_alive,
        churn_propensity,
        lifetime_value_12m,
        net_amount as value_amount,
        percent_rank() over (order by net_amount) as value_percentile
    from dim_customer_scores
    where net_amount is not null

),

candidates as (

    select
        -- ids
        contactable.customer_id,
        contactable.home_store_id,

        -- strings
        contactable.email,
        contactable.phone_e164,
        contactable.first_name,
        contactable.postcode_area,
        contactable.loyalty_tier,
        valued.rfm_segment,
        dim_customer_traits.favourite_category,

        -- numerics
        valued.value_amount,
        valued.value_percentile,
        valued.lifetime_value_12m,
        valued.probability_alive,
        valued.churn_propensity,
        dim_customer_traits.days_since_last_order,

        -- booleans
        coalesce(valued.value_percentile >= {{ 1 - high_value_share }}, false) as is_high_value,
        coalesce(valued.value_percentile < {{ low_value_share }}, true) as is_low_value,
        coalesce(
            contactable.loyalty_tier in ('gold', 'platinum') or valued.rfm_segment in ('champions', 'loyal'),
            false
        ) as is_loyal,
        coalesce(valued.rfm_segment in ('at_risk', 'cannot_lose') or valued.probability_alive < 0.5, false)
            as is_at_risk,
        coalesce(dim_customer_traits.days_since_last_order > {{ lapsed_after_days }}, false) as is_lapsed,

        -- dates
        dim_customer_traits.last_order_date,
        {{ kith_as_of_date() }} as as_of_date

    from contactable
    left join valued
        on contactable.customer_id = valued.customer_id
    left join dim_customer_traits
        on contactable.customer_id = dim_customer_traits.customer_id

)

select * from candidates
