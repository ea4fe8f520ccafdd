-- One row per customer with a purchase on or before the as-of date: every score, typed for BI and
-- audiences. Computed by the Python model fct_customer_scores_computed (logic in kith/scoring/),
-- published here under a contract, with the customer's top category by spend share.
with

fct_customer_scores_computed as (

    select * from {{ ref('fct_customer_scores_computed') }}

),

fct_category_affinities as (

    select * from {{ ref('fct_category_affinities') }}

),

top_categories as (

    select
        customer_id,
        category as top_category
    from fct_category_affinities
    where affinity_rank = 1

),

scores_typed as (

    select
        -- ids
        cast(fct_customer_scores_computed.customer_id as {{ kith_type_string() }}) as customer_id,

        -- strings
        cast(fct_customer_scores_computed.rfm_cell as {{ kith_type_string() }}) as rfm_cell,
        cast(fct_customer_scores_computed.rfm_segment as {{ kith_type_string() }}) as rfm_segment,
        top_categories.top_category,
        cast(fct_customer_scores_computed.lifetime_value_missing_reason as {{ kith_type_string() }})
            as lifetime_value_missing_reason,
        cast(fct_customer_scores_computed.propensity_missing_reason as {{ kith_type_string() }})
            as propensity_missing_reason,

        -- numerics
        cast(fct_customer_scores_computed.order_count as integer) as order_count,
        cast(fct_customer_scores_computed.purchase_day_count as integer) as purchase_day_count,
        cast(fct_customer_scores_computed.recency_days as integer) as recency_days,
        {{ kith_double_to_decimal('fct_customer_scores_computed.paid_amount', 18, 2) }} as paid_amount,
        {{ kith_double_to_decimal('fct_customer_scores_computed.net_amount', 18, 2) }} as net_amount,
        cast(fct_customer_scores_computed.margin_rate as double) as margin_rate,
        cast(fct_customer_scores_computed.return_rate as double) as return_rate,
        cast(fct_customer_scores_computed.recency_score as integer) as recency_score,
        cast(fct_customer_scores_computed.frequency_score as integer) as frequency_score,
        cast(fct_customer_scores_computed.monetary_score as integer) as monetary_score,
        cast(fct_customer_scores_computed.expected_purchases_90d as double) as expected_purchases_90d,
        cast(fct_customer_scores_computed.expected_purchases_365d as double) as expected_purchases_365d,
        cast(fct_customer_scores_computed.probability_alive as double) as probability_alive,
        {{ kith_double_to_decimal('fct_customer_scores_computed.expected_order_value', 18, 2) }}
            as expected_order_value,
        {{ kith_double_to_decimal('fct_customer_scores_computed.lifetime_value_12m', 18, 2) }}
            as lifetime_value_12m,
        {{ kith_double_to_decimal('fct_customer_scores_computed.margin_lifetime_value_12m', 18, 2) }}
            as margin_lifetime_value_12m,
        cast(fct_customer_scores_computed.purchase_propensity as double) as purchase_propensity,
        cast(1 - fct_customer_scores_computed.purchase_propensity as double) as churn_propensity,

        -- dates
        cast(fct_customer_scores_computed.as_of_date as date) as as_of_date,
        cast(fct_customer_scores_computed.first_purchase_date as date) as first_purchase_date,
        cast(fct_customer_scores_computed.last_purchase_date as date) as last_purchase_date

    from fct_customer_scores_computed
    left join top_categories
        on fct_customer_scores_computed.customer_id = top_categories.customer_id

)

select * from scores_typed
