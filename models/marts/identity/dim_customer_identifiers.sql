-- The customer id map: every usable identifier and the customer it belongs to. This is the
-- contract the rest of Kith joins through (identifier -> customer_id).
with int_customer_ids_assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        customer_id,
        is_anchor,
        first_seen_at,
        last_seen_at,
        record_count
    from int_customer_ids_assigned

)

select * from identifiers
