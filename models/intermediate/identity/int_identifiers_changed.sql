{#-
    The identifier rows of the records an incremental build reprocesses, one row per (record
    version, identifier): the records loaded since the last build (macros/cross_db/
    identity_incremental.sql), in their new version (is_current) and, read from
    int_identifiers_unioned as it stood before this run, in the version they replace.
    Web and app events are held as distinct identifier combinations (record_group): the new events
    of a combination are aggregated and merged with the combination's aggregate already held
    (first record and first seen: the smaller; last seen and last load: the larger), so no old
    event is read again. A full build leaves this model empty: int_identifiers_unioned then reads
    every record itself.
-#}
{% set plan = kith_identity_incremental_plan() -%}
{%- set incremental = plan['mode'] == 'incremental' -%}
{%- set unioned_before = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_identifiers_unioned'
) if execute and incremental else none -%}
-- depends_on: {{ ref('identity_rules') }} (read by the incremental plan)
-- (the linter reads one branch of the if below and misjudges the indentation of the other)
-- noqa: disable=LT02
{% if incremental and unioned_before is not none -%}
with new_rows as (

    {{ kith_identity_identifier_rows(since=plan['loaded_until']) }}

),

-- the aggregates already held for the event combinations new events show
held_combinations as (

    select
        record_group,
        min(record_id) as record_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        max(dlt_loaded_at) as dlt_loaded_at,
        max(dlt_load_id) as dlt_load_id
    from {{ unioned_before }}
    where
        record_group <> record_id
        and record_group in (select new_rows.record_group from new_rows where new_rows.record_group <> new_rows.record_id)
    group by 1

),

new_versions as (

    select
        -- a combination's record is its first event ('<system>.<entity>:' || smallest event id)
        least(new_rows.record_id, coalesce(held_combinations.record_id, new_rows.record_id)) as record_id,
        new_rows.source_system,
        new_rows.source_entity,
        new_rows.identifier_type,
        new_rows.identifier_value,
        new_rows.is_junk,
        least(new_rows.first_seen_at, coalesce(held_combinations.first_seen_at, new_rows.first_seen_at))
            as first_seen_at,
        greatest(new_rows.last_seen_at, coalesce(held_combinations.last_seen_at, new_rows.last_seen_at))
            as last_seen_at,
        new_rows.record_group,
        greatest(new_rows.dlt_loaded_at, coalesce(held_combinations.dlt_loaded_at, new_rows.dlt_loaded_at))
            as dlt_loaded_at,
        greatest(new_rows.dlt_load_id, coalesce(held_combinations.dlt_load_id, new_rows.dlt_load_id))
            as dlt_load_id,
        true as is_current
    from new_rows
    left join held_combinations
        on new_rows.record_group = held_combinations.record_group

),

-- the versions these records had before this run: their identifiers change too
old_versions as (

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
        dlt_load_id,
        false as is_current
    from {{ unioned_before }}
    where record_group in (select new_rows.record_group from new_rows)

),

changed as (

    select * from new_versions
    union all
    select * from old_versions

)

select * from changed
{%- else -%}
-- a full build: nothing to reprocess (int_identifiers_unioned reads every record itself)
with identifier_rows as (

    {{ kith_identity_identifier_rows() }}

),

changed as (

    select
        *,
        true as is_current
    from identifier_rows
    where false

)

select * from changed
{%- endif %}
