{{
    config(
        materialized=kith_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{{ kith_identity_replace_all() }}",
            "{{ kith_identity_delete_replaced_records() }}",
        ],
    )
}}
-- Every identifier seen in every source record, one row per (record, identifier); web and app
-- events reduced to their distinct identifier combinations (macro kith_identity_identifier_rows).
-- A full build reads every record; an incremental one replaces the record groups
-- int_identifiers_changed reprocessed with their new version (the pre-hook deletes the old one).
{% set plan = kith_identity_incremental_plan() -%}
-- depends_on: {{ ref('identity_rules') }}, {{ ref('int_identifiers_changed') }} (the plan and hooks)
-- (the linter reads one branch of the if below and misjudges the indentation of the other)
-- noqa: disable=LT02
{% if kith_identity_is_incremental(plan) -%}
with int_identifiers_changed as (

    select * from {{ ref('int_identifiers_changed') }}

),

current_versions as (

    select
        record_id,
        source_system,
        source_entity,
        identifier_type,
        identifier_value,
        is_junk,
        first_seen_at,
        last_seen_at,
        record_group,
        dlt_loaded_at,
        dlt_load_id
    from int_identifiers_changed
    where is_current

)

select * from current_versions
{%- else -%}
{{ kith_identity_identifier_rows() }}
{%- endif %}
