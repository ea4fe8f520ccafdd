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
-- Every identifier seen in every source record, one row per (record, identifier). Built from
-- int_identifiers_changed: in full, or, on an incremental run, by replacing the records
-- (record_group) that run reprocessed with their new version (the pre-hook deletes the old one).
-- depends_on: {{ ref('identity_rules') }} (read by the incremental plan and hooks)
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
        dlt_loaded_at
    from int_identifiers_changed
    where is_current

)

select * from current_versions
