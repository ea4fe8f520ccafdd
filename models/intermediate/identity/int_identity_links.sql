-- The edges the graph may use: both identifiers allowed to link on their own. Identifiers that may
-- not link alone are attached afterwards (int_identity_attachments), never used to join customers.
with int_identity_edges_numbered as (

    select * from {{ ref('int_identity_edges_numbered') }}

),

links as (

    select
        node_id_a,
        node_id_b,
        link_priority,
        first_seen_at,
        first_record_id,
        link_source,
        match_probability
    from int_identity_edges_numbered
    where can_link_alone_a and can_link_alone_b

)

select * from links
