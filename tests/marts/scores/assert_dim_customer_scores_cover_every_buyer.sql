-- dim_customer_scores holds exactly the customers with a purchase on or before the as-of date,
-- with their order count and last purchase day derived here from fct_orders: no later order is
-- counted, no buyer is missing, no one else is scored.
with

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

dim_customer_scores as (

    select * from {{ ref('dim_customer_scores') }}

),

buyers as (

    select
        fct_orders.customer_id,
        count(*) as order_count,
        max(fct_orders.order_date) as last_purchase_date
    from fct_orders
    cross join dim_scoring_as_of
    where
        fct_orders.customer_id is not null
        and not fct_orders.is_cancelled
        and fct_orders.order_date <= dim_scoring_as_of.as_of_date
    group by 1

),

mismatches as (

    select
        coalesce(buyers.customer_id, dim_customer_scores.customer_id) as customer_id,
        buyers.order_count as expected_order_count,
        dim_customer_scores.order_count,
        buyers.last_purchase_date as expected_last_purchase_date,
        dim_customer_scores.last_purchase_date
    from buyers
    full outer join dim_customer_scores
        on buyers.customer_id = dim_customer_scores.customer_id
    where
        buyers.customer_id is null
        or dim_customer_scores.customer_id is null
        or buyers.order_count <> dim_customer_scores.order_count
        or buyers.last_purchase_date <> dim_customer_scores.last_purchase_date

)

select * from mismatches
