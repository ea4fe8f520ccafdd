-- Identifiers whose type may not link on its own (identity_rules.can_link_alone = false) join a
-- customer only when every customer they touch is the same one; touching several, they stay alone.
with int_identity_edges_numbered as (

    select * from {{ ref('int_identity_edges_numbered') }}

),

int_identity_clusters as (

    select * from {{ ref('int_identity_clusters') }}

),

-- a non-linking identifier and each linking neighbour it was seen with in a record
directed as (

    select
        node_id_a as node_id,
        node_id_b as neighbour_node_id
    from int_identity_edges_numbered
    where link_source = 'deterministic' and not can_link_alone_a and can_link_alone_b
    union all
    select
        node_id_b as node_id,
        node_id_a as neighbour_node_id
    from int_identity_edges_numbered
    where link_source = 'deterministic' and not can_link_alone_b and can_link_alone_a

),

touched as (

    select
        directed.node_id,
        count(distinct int_identity_clusters.cluster_id) as clusters_touched,
        min(int_identity_clusters.cluster_id) as cluster_id
    from directed
    inner join int_identity_clusters
        on directed.neighbour_node_id = int_identity_clusters.node_id
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
