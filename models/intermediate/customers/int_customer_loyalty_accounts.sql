-- The loyalty account of each customer who holds one: the most recently updated membership (a
-- member holding a replacement card has two; the newer one carries the live tier and balance),
-- with the number of cards the customer holds.
with

stg_loyalty__members as (

    select * from {{ ref('stg_loyalty__members') }}

),

int_customer_ids_assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

memberships as (

    select
        int_customer_ids_assigned.customer_id,
        stg_loyalty__members.loyalty_number,
        stg_loyalty__members.home_store_id,
        stg_loyalty__members.loyalty_tier,
        stg_loyalty__members.points_balance,
        stg_loyalty__members.enrolled_at,
        coalesce(stg_loyalty__members.updated_at, stg_loyalty__members.enrolled_at) as updated_at
    from stg_loyalty__members
    inner join int_customer_ids_assigned
        on
            int_customer_ids_assigned.identifier_type = 'loyalty_number'
            and stg_loyalty__members.loyalty_number = int_customer_ids_assigned.identifier_value
    where not stg_loyalty__members.is_loyalty_number_junk

),

accounts as (

    {% call kith_qualify(
        "row_number() over (partition by customer_id order by updated_at desc nulls last, loyalty_number desc) = 1"
    ) -%}
    select
        *,
        count(*) over (partition by customer_id) as loyalty_card_count,
        min(enrolled_at) over (partition by customer_id) as first_enrolled_at
    from memberships
    {%- endcall %}

)

select * from accounts
