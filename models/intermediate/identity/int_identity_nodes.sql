-- Every usable identifier (junk excluded), numbered 0..n-1 for the graph algorithms, with its
-- rule and, when it must not link anyone, why (blocklisted, or shared beyond a cap).
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

identifiers as (

    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(distinct record_id) as record_count
    from int_identifiers_unioned
    where not is_junk
    group by 1, 2

),

neighbours as (

    select
        identifier_type_a as identifier_type,
        identifier_value_a as identifier_value,
        identifier_type_b as neighbour_type,
        identifier_value_b as neighbour_value
    from int_identity_edges_built
    union all
    select
        identifier_type_b as identifier_type,
        identifier_value_b as identifier_value,
        identifier_type_a as neighbour_type,
        identifier_value_a as neighbour_value
    from int_identity_edges_built

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
        row_number() over (
            order by identifiers.identifier_type, identifiers.identifier_value
        ) - 1 as node_id
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

)

select * from numbered
