-- Identifiers whose type may not link on its own (identity_rules.can_link_alone = false) join a
-- customer only when every customer they touch is the same one; touching several, they stay alone.
with int_identity_edges_built as (

    select * from {{ ref('int_identity_edges_built') }}

),

int_identity_nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

int_identity_clusters as (

    select * from {{ ref('int_identity_clusters') }}

),

node_edges as (

    select
        node_a.node_id as node_id_a,
        node_b.node_id as node_id_b
    from int_identity_edges_built
    inner join int_identity_nodes as node_a
        on
            int_identity_edges_built.identifier_type_a = node_a.identifier_type
            and int_identity_edges_built.identifier_value_a = node_a.identifier_value
    inner join int_identity_nodes as node_b
        on
            int_identity_edges_built.identifier_type_b = node_b.identifier_type
            and int_identity_edges_built.identifier_value_b = node_b.identifier_value
    where node_a.exclusion_reason is null and node_b.exclusion_reason is null

),

directed as (

    select
        node_id_a as node_id,
        node_id_b as neighbour_node_id
    from node_edges
    union all
    select
        node_id_b as node_id,
        node_id_a as neighbour_node_id
    from node_edges

),

touched as (

    select
        directed.node_id,
        count(distinct int_identity_clusters.cluster_id) as clusters_touched,
        min(int_identity_clusters.cluster_id) as cluster_id
    from directed
    inner join int_identity_nodes as own
        on directed.node_id = own.node_id
    inner join int_identity_nodes as neighbour
        on directed.neighbour_node_id = neighbour.node_id
    inner join int_identity_clusters
        on directed.neighbour_node_id = int_identity_clusters.node_id
    where not own.can_link_alone and neighbour.can_link_alone
    group by 1

),

attachments as (

    select
        node_id,
        cluster_id as attached_cluster_id,
        clusters_touched
    from touched
    where clusters_touched = 1

)

select * from attachments
