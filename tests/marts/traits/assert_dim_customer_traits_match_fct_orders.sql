-- The purchase traits agree with fct_orders: for every customer, the orders placed on or before
-- the as-of day that were not cancelled give the same counts, spend and first and last dates, and
-- no customer without such an order has any.
with

purchases as (

    select
        customer_id,
        count(*) as order_count,
        count(*) filter (where order_channel = 'online') as online_order_count,
        count(*) filter (where order_channel = 'store') as store_order_count,
        sum(paid_amount) as total_spend_amount,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from {{ ref('fct_orders') }}
    where
        customer_id is not null
        and not is_cancelled
        and order_date <= {{ kith_as_of_date() }}
    group by 1

),

traits as (

    select * from {{ ref('dim_customer_traits') }}
    where order_count > 0

),

mismatches as (

    select
        coalesce(purchases.customer_id, traits.customer_id) as customer_id,
        purchases.order_count as expected_order_count,
        traits.order_count,
        purchases.total_spend_amount as expected_total_spend_amount,
        traits.total_spend_amount
    from purchases
    full join traits
        on purchases.customer_id = traits.customer_id
    where
        purchases.customer_id is null
        or traits.customer_id is null
        or purchases.order_count <> traits.order_count
        or purchases.online_order_count <> traits.online_order_count
        or purchases.store_order_count <> traits.store_order_count
        or purchases.total_spend_amount <> traits.total_spend_amount
        or purchases.first_order_date <> traits.first_order_date
        or purchases.last_order_date <> traits.last_order_date

)

select * from mismatches
