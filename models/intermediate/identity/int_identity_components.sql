-- The component of every identity node, from the engine chosen by var kith__identity_engine:
-- 'scipy' (default on DuckDB: in memory, fastest) or 'sql' (large-star/small-star, portable to
-- Spark and to graphs larger than memory). Both label a component by its smallest node id;
-- nodes without links are their own component.
with int_identity_nodes as (

    select * from {{ ref('int_identity_nodes') }}

),

{% if kith_identity_engine() == 'sql' -%}
engine_components as (

    select * from {{ ref('int_identity_components_sql') }}

),
{%- else -%}
    engine_components as (

        select * from {{ ref('int_identity_components_scipy') }}

    ),
{%- endif %}

components as (

    select
        int_identity_nodes.node_id,
        coalesce(engine_components.component_id, int_identity_nodes.node_id) as component_id
    from int_identity_nodes
    left join engine_components
        on int_identity_nodes.node_id = engine_components.node_id

)

select * from components
