-- The edges the graph may use: both identifiers usable (not blocklisted, not shared), as node ids.
-- Identifiers that may not link alone are attached later, not used to join customers here.
with int_identity_edges_built as (

    select * from {{ ref('int_identity_edges_built') }}

),

int_identity_nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

links as (

    select
        node_a.node_id as node_id_a,
        node_b.node_id as node_id_b,
        greatest(node_a.priority, node_b.priority) as link_priority,
        int_identity_edges_built.first_seen_at,
        int_identity_edges_built.first_record_id
    from int_identity_edges_built
    inner join int_identity_nodes as node_a
        on
            int_identity_edges_built.identifier_type_a = node_a.identifier_type
            and int_identity_edges_built.identifier_value_a = node_a.identifier_value
    inner join int_identity_nodes as node_b
        on
            int_identity_edges_built.identifier_type_b = node_b.identifier_type
            and int_identity_edges_built.identifier_value_b = node_b.identifier_value
    where
        node_a.exclusion_reason is null
        and node_b.exclusion_reason is null
        and node_a.can_link_alone
        and node_b.can_link_alone

)

select * from links
