{{
    config(
        materialized=kith_incremental_materialization(),
        incremental_strategy='append',
        pre_hook=[
            "{{ kith_identity_replace_all() }}",
            "{{ kith_identity_delete_touched_edges() }}",
        ],
    )
}}
-- Edges between identifiers that occur in the same record, one row per distinct pair (a < b),
-- with the record that first showed the pair. Junk identifiers (flagged in staging) never link.
-- An incremental run recomputes, over all records, every edge touching an identifier that the
-- records it reprocesses carry now or carried before (the pre-hook deletes those edges first):
-- any other edge is held by unchanged records only, so it cannot have changed.
-- depends_on: {{ ref("identity_rules") }}, {{ ref("int_identifiers_changed") }} (the plan and hooks)
{% set plan = kith_identity_incremental_plan() %}
{%- set incremental = kith_identity_is_incremental(plan) %}
with int_identifiers_unioned as (

    select * from {{ ref('int_identifiers_unioned') }}

),

{% if incremental -%}
int_identifiers_changed as (

    select * from {{ ref('int_identifiers_changed') }}

),

touched as (

    select distinct
        identifier_type,
        identifier_value
    from int_identifiers_changed

),

-- every record holding a touched identifier: together they hold every pair touching one
touched_records as (

    select distinct int_identifiers_unioned.record_id
    from int_identifiers_unioned
    inner join touched
        on
            int_identifiers_unioned.identifier_type = touched.identifier_type
            and int_identifiers_unioned.identifier_value = touched.identifier_value
    where not int_identifiers_unioned.is_junk

),

{% endif -%}
usable as (

    select
        int_identifiers_unioned.record_id,
        int_identifiers_unioned.identifier_type,
        int_identifiers_unioned.identifier_value,
        int_identifiers_unioned.first_seen_at,
        int_identifiers_unioned.last_seen_at
    from int_identifiers_unioned
    {%- if incremental %}
    inner join touched_records
        on int_identifiers_unioned.record_id = touched_records.record_id
    {%- endif %}
    where not int_identifiers_unioned.is_junk

),

pairs as (

    select
        a.record_id,
        a.identifier_type as identifier_type_a,
        a.identifier_value as identifier_value_a,
        b.identifier_type as identifier_type_b,
        b.identifier_value as identifier_value_b,
        a.first_seen_at,
        a.last_seen_at
    from usable as a
    inner join usable as b
        on
            a.record_id = b.record_id
            and (
                a.identifier_type < b.identifier_type
                or (a.identifier_type = b.identifier_type and a.identifier_value < b.identifier_value)
            )

),

edges as (

    select
        identifier_type_a,
        identifier_value_a,
        identifier_type_b,
        identifier_value_b,
        min(record_id) as first_record_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as record_count
    from pairs
    group by 1, 2, 3, 4

)

select edges.*
from edges
{%- if incremental %}
where
    exists (
        select 1 from touched
        where edges.identifier_type_a = touched.identifier_type and edges.identifier_value_a = touched.identifier_value
    )
    or exists (
        select 1 from touched
        where edges.identifier_type_b = touched.identifier_type and edges.identifier_value_b = touched.identifier_value
    )
{%- endif %}
