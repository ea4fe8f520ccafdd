{#-
    One stable customer_id per cluster of identifiers.
    - A cluster that holds the anchor of an id issued before keeps that id; when it holds several
      (two customers merged), the oldest id survives (issued first, then anchor seen first).
    - Otherwise the id is derived from the cluster's anchor, its earliest-seen identifier
      (then strongest, then by value): the same data always gives the same ids, even on a full
      refresh, and new data cannot change an existing customer's anchor.
    The registry of issued ids (int_customer_id_registry) is read as it stood before this run; it is
    not a ref, because the registry is itself built from this model.
-#}
{%- set registry = adapter.get_relation(
    database=this.database, schema=this.schema, identifier='int_customer_id_registry'
) if execute else none -%}

with int_identity_nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

int_identity_clusters as (

    select * from {{ ref('int_identity_clusters') }}

),

int_identity_attachments as (

    select * from {{ ref('int_identity_attachments') }}

),

members as (

    select
        int_identity_nodes.node_id,
        int_identity_nodes.identifier_type,
        int_identity_nodes.identifier_value,
        int_identity_nodes.priority,
        int_identity_nodes.first_seen_at,
        int_identity_nodes.last_seen_at,
        int_identity_nodes.record_count,
        coalesce(int_identity_attachments.attached_cluster_id, int_identity_clusters.cluster_id) as cluster_id
    from int_identity_nodes
    inner join int_identity_clusters
        on int_identity_nodes.node_id = int_identity_clusters.node_id
    left join int_identity_attachments
        on int_identity_nodes.node_id = int_identity_attachments.node_id
    where int_identity_nodes.exclusion_reason is null

),

registered as (

    {%- if registry is not none %}
    select
        members.cluster_id,
        registry.customer_id,
        registry.issued_at,
        registry.anchor_first_seen_at,
        members.node_id as anchor_node_id
    from {{ registry }} as registry
    inner join members
        on
            registry.anchor_identifier_type = members.identifier_type
            and registry.anchor_identifier_value = members.identifier_value
    {%- else %}
    select
        cast(null as bigint) as cluster_id,
        cast(null as {{ kith_type_string() }}) as customer_id,
        cast(null as timestamp) as issued_at,
        cast(null as timestamp) as anchor_first_seen_at,
        cast(null as bigint) as anchor_node_id
    where false
    {%- endif %}

),

survivors as (

    {% call kith_qualify(
        "row_number() over (partition by cluster_id order by issued_at, anchor_first_seen_at, customer_id) = 1"
    ) -%}
    select
        cluster_id,
        customer_id,
        anchor_node_id
    from registered
    {%- endcall %}

),

anchors as (

    {% call kith_qualify(
        "row_number() over (partition by cluster_id order by first_seen_at, priority, identifier_type, identifier_value) = 1"
    ) -%}
    select
        cluster_id,
        node_id as anchor_node_id,
        'cus_' || left(md5(identifier_type || ':' || identifier_value), 16) as derived_customer_id
    from members
    {%- endcall %}

),

assigned as (

    select
        members.node_id,
        members.identifier_type,
        members.identifier_value,
        members.cluster_id,
        coalesce(survivors.customer_id, anchors.derived_customer_id) as customer_id,
        members.node_id = coalesce(survivors.anchor_node_id, anchors.anchor_node_id) as is_anchor,
        survivors.customer_id is not null as was_issued_before,
        members.first_seen_at,
        members.last_seen_at,
        members.record_count
    from members
    inner join anchors
        on members.cluster_id = anchors.cluster_id
    left join survivors
        on members.cluster_id = survivors.cluster_id

)

select * from assigned
