-- dim_customer_traits holds exactly the customers of the id map with an order or a touchpoint on
-- or before the as-of day, each with that as-of day.
with

customers_known as (

    select distinct customer_id
    from {{ ref('dim_customer_identifiers') }}

),

customers_active as (

    select customer_id
    from {{ ref('fct_orders') }}
    where order_date <= {{ kith_as_of_date() }}

    union

    select customer_id
    from {{ ref('fct_touchpoints') }}
    where touchpoint_date <= {{ kith_as_of_date() }}

),

expected as (

    select customers_known.customer_id
    from customers_known
    inner join customers_active
        on customers_known.customer_id = customers_active.customer_id

),

traits as (

    select * from {{ ref('dim_customer_traits') }}

),

mismatches as (

    select
        coalesce(expected.customer_id, traits.customer_id) as customer_id,
        expected.customer_id is not null as is_expected,
        traits.customer_id is not null as is_present,
        traits.as_of_date
    from expected
    full join traits
        on expected.customer_id = traits.customer_id
    where
        expected.customer_id is null
        or traits.customer_id is null
        or traits.as_of_date is distinct from {{ kith_as_of_date() }}

)

select * from mismatches
