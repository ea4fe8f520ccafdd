-- Every candidate edge between two usable identifiers (not blocklisted, not shared), as node ids:
-- identifiers seen together in a record (deterministic) and person records matched by Splink with
-- decision `link` (probabilistic, joining the records' anchor identifiers). Numbered once here for
-- both the graph's links and the attachment of identifiers that may not link alone.
with int_identity_edges_built as (

    select * from {{ ref('int_identity_edges_built') }}

),

int_identity_probabilistic_matches as (

    select * from {{ ref('int_identity_probabilistic_matches') }}

),

int_identity_nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

candidate_edges as (

    select
        identifier_type_a,
        identifier_value_a,
        identifier_type_b,
        identifier_value_b,
        first_seen_at,
        first_record_id,
        'deterministic' as link_source,
        cast(null as double) as match_probability
    from int_identity_edges_built
    union all
    select
        anchor_identifier_type_a as identifier_type_a,
        anchor_identifier_value_a as identifier_value_a,
        anchor_identifier_type_b as identifier_type_b,
        anchor_identifier_value_b as identifier_value_b,
        cast(null as timestamp) as first_seen_at,
        record_id_a as first_record_id,
        'probabilistic' as link_source,
        match_probability
    from int_identity_probabilistic_matches
    where decision = 'link'

),

numbered as (

    select
        node_a.node_id as node_id_a,
        node_b.node_id as node_id_b,
        -- a probabilistic link is weaker than any identifier shared in a record
        greatest(node_a.priority, node_b.priority)
        + case when candidate_edges.link_source = 'probabilistic' then 100 else 0 end as link_priority,
        candidate_edges.first_seen_at,
        candidate_edges.first_record_id,
        candidate_edges.link_source,
        candidate_edges.match_probability,
        node_a.can_link_alone as can_link_alone_a,
        node_b.can_link_alone as can_link_alone_b
    from candidate_edges
    inner join int_identity_nodes as node_a
        on
            candidate_edges.identifier_type_a = node_a.identifier_type
            and candidate_edges.identifier_value_a = node_a.identifier_value
    inner join int_identity_nodes as node_b
        on
            candidate_edges.identifier_type_b = node_b.identifier_type
            and candidate_edges.identifier_value_b = node_b.identifier_value
    where
        node_a.exclusion_reason is null
        and node_b.exclusion_reason is null

)

select * from numbered
