{{
    config(
        materialized=kith_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['identifier_type', 'identifier_value'],
        on_schema_change='append_new_columns',
        pre_hook="{{ kith_identity_replace_all() }}",
        post_hook="{{ kith_identity_delete_vanished_nodes() }}",
    )
}}
-- Every usable identifier (junk excluded), numbered for the graph algorithms, with its rule and,
-- when it must not link anyone, why (blocklisted, or shared beyond a cap).
-- A full build numbers the identifiers 0..n-1 in (type, value) order. An incremental run
-- recomputes only the identifiers its reprocessed records carry (now or before) and those whose
-- blocklist entry changed: an identifier's counts and neighbours change only with its own records.
-- They keep their node id; new identifiers are numbered after the largest one; identifiers no
-- record carries any more are deleted (post-hook). Node ids are therefore unique, not dense.
-- depends_on: {{ ref('int_identifiers_changed') }} (read by the incremental plan and hooks)
{% set plan = kith_identity_incremental_plan() %}
{%- set incremental = kith_identity_is_incremental(plan) %}
with int_identifiers_unioned as (

    select * from {{ ref('int_identifiers_unioned') }}

),

int_identity_edges_built as (

    select * from {{ ref('int_identity_edges_built') }}

),

identity_rules as (

    select * from {{ ref('identity_rules') }}

),

identity_blocklist as (

    select * from {{ ref('identity_blocklist') }}

),

-- the nodes as they stood before this run (none on a full build); sqlfluff misreads the
-- indentation of the branch it does not render
-- noqa: disable=LT02
existing_nodes as (

    {%- if incremental %}
    select
        identifier_type,
        identifier_value,
        node_id,
        exclusion_reason
    from {{ this }}
    {%- else %}
    select
        cast(null as {{ kith_type_string() }}) as identifier_type,
        cast(null as {{ kith_type_string() }}) as identifier_value,
        cast(null as bigint) as node_id,
        cast(null as {{ kith_type_string() }}) as exclusion_reason
    where false
    {%- endif %}

),
-- noqa: enable=LT02

{% if incremental -%}
int_identifiers_changed as (

    select * from {{ ref('int_identifiers_changed') }}

),


-- identifiers whose blocklist entry was added, removed or reworded since they were computed
blocklist_changed as (

    select
        coalesce(existing_nodes.identifier_type, identity_blocklist.identifier_type) as identifier_type,
        coalesce(existing_nodes.identifier_value, identity_blocklist.identifier_value) as identifier_value
    from (
        select
            identifier_type,
            identifier_value,
            exclusion_reason
        from existing_nodes
        where exclusion_reason like 'blocklisted: %'
    ) as existing_nodes
    full outer join identity_blocklist
        on
            existing_nodes.identifier_type = identity_blocklist.identifier_type
            and existing_nodes.identifier_value = identity_blocklist.identifier_value
    where existing_nodes.exclusion_reason is distinct from 'blocklisted: ' || identity_blocklist.reason

),

touched as (

    select
        identifier_type,
        identifier_value
    from int_identifiers_changed
    union
    select
        identifier_type,
        identifier_value
    from blocklist_changed

),

{% endif -%}
numbering as (

    select coalesce(max(node_id), -1) as largest_node_id
    from existing_nodes

),


-- the union's rows of the identifiers this run computes
unioned as (

    select * from int_identifiers_unioned
    {%- if incremental %}
    where
        exists (
            select 1 from touched
            where
                int_identifiers_unioned.identifier_type = touched.identifier_type
                and int_identifiers_unioned.identifier_value = touched.identifier_value
        )
    {%- endif %}

),

identifiers as (

    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(distinct record_id) as record_count
    from unioned
    where not is_junk
    group by 1, 2

),

edges as (

    select * from int_identity_edges_built
    {%- if incremental %}
    where
        exists (
            select 1 from touched
            where
                int_identity_edges_built.identifier_type_a = touched.identifier_type
                and int_identity_edges_built.identifier_value_a = touched.identifier_value
        )
        or exists (
            select 1 from touched
            where
                int_identity_edges_built.identifier_type_b = touched.identifier_type
                and int_identity_edges_built.identifier_value_b = touched.identifier_value
        )
    {%- endif %}

),

neighbours as (

    select
        identifier_type_a as identifier_type,
        identifier_value_a as identifier_value,
        identifier_type_b as neighbour_type,
        identifier_value_b as neighbour_value
    from edges
    union all
    select
        identifier_type_b as identifier_type,
        identifier_value_b as identifier_value,
        identifier_type_a as neighbour_type,
        identifier_value_a as neighbour_value
    from edges

),

-- An identifier that links more values of a stronger identifier type than one customer may
-- have is shared (a family email linking two CRM contacts, a tablet used by two accounts).
over_cap as (

    select
        neighbours.identifier_type,
        neighbours.identifier_value,
        neighbours.neighbour_type,
        count(distinct neighbours.neighbour_value) as neighbour_count,
        max(neighbour_rules.max_per_customer) as max_per_customer
    from neighbours
    inner join identity_rules as own_rules
        on neighbours.identifier_type = own_rules.identifier_type
    inner join identity_rules as neighbour_rules
        on neighbours.neighbour_type = neighbour_rules.identifier_type
    where
        neighbour_rules.priority < own_rules.priority
        and neighbour_rules.max_per_customer is not null
    group by 1, 2, 3
    having count(distinct neighbours.neighbour_value) > max(neighbour_rules.max_per_customer)

),

shared as (

    select
        identifier_type,
        identifier_value,
        {%- set neighbour_text -%}
            cast(neighbour_count as {{ kith_type_string() }}) || ' ' || neighbour_type || ' (at most '
            || cast(max_per_customer as {{ kith_type_string() }}) || ' per customer)'
        {%- endset %}
        'shared: links ' || {{ kith_string_agg(neighbour_text, "', '", 'neighbour_type') }} as exclusion_reason
    from over_cap
    group by 1, 2

),

numbered as (

    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        identity_rules.priority,
        identity_rules.can_link_alone,
        identity_rules.max_per_customer,
        identifiers.first_seen_at,
        identifiers.last_seen_at,
        identifiers.record_count,
        coalesce(
            'blocklisted: ' || identity_blocklist.reason,
            shared.exclusion_reason
        ) as exclusion_reason,
        -- an identifier seen before keeps its id; new ones are numbered after the largest
        coalesce(
            existing_nodes.node_id,
            numbering.largest_node_id + row_number() over (
                partition by existing_nodes.node_id is null
                order by identifiers.identifier_type, identifiers.identifier_value
            )
        ) as node_id,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as refreshed_at
    from identifiers
    inner join identity_rules
        on identifiers.identifier_type = identity_rules.identifier_type
    left join identity_blocklist
        on
            identifiers.identifier_type = identity_blocklist.identifier_type
            and identifiers.identifier_value = identity_blocklist.identifier_value
    left join shared
        on
            identifiers.identifier_type = shared.identifier_type
            and identifiers.identifier_value = shared.identifier_value
    left join existing_nodes
        on
            identifiers.identifier_type = existing_nodes.identifier_type
            and identifiers.identifier_value = existing_nodes.identifier_value
    cross join numbering

)

select * from numbered
