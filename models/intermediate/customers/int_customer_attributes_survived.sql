-- Survivorship: for each customer and attribute group, the one candidate that wins. The most
-- trusted source for that group (seed survivorship_rules, trust_rank 1 first) wins; among values of
-- equally trusted sources the most recently updated record wins; a last tie goes to the smallest
-- source record id, so the choice is the same on every run. A source the seed does not list for a
-- group never supplies that group.
with

int_customer_attribute_candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}

),

survivorship_rules as (

    select * from {{ ref('survivorship_rules') }}

),

candidates_ranked as (

    select
        int_customer_attribute_candidates.customer_id,
        int_customer_attribute_candidates.attribute_group,
        int_customer_attribute_candidates.attribute_values,
        int_customer_attribute_candidates.source_system,
        int_customer_attribute_candidates.source_record_id,
        survivorship_rules.trust_rank,
        int_customer_attribute_candidates.source_created_at,
        int_customer_attribute_candidates.source_updated_at,
        count(*) over (
            partition by
                int_customer_attribute_candidates.customer_id, int_customer_attribute_candidates.attribute_group
        ) as candidate_count
    from int_customer_attribute_candidates
    inner join survivorship_rules
        on
            int_customer_attribute_candidates.attribute_group = survivorship_rules.attribute_group
            and int_customer_attribute_candidates.source_system = survivorship_rules.source_system

),

survivors as (

    {% call kith_qualify(
        "row_number() over (partition by customer_id, attribute_group"
        ~ " order by trust_rank asc, source_updated_at desc nulls last, source_record_id asc) = 1"
    ) -%}
    select * from candidates_ranked
    {%- endcall %}

)

select * from survivors
