{{ config(
    enabled=kith_identity_engine() == 'sql',
    materialized='table',
    post_hook="{{ kith_connected_components_drop_scratch(this) }}"
) }}

-- The component of every linked identity node in set-based SQL: large-star/small-star
-- (macros/identity/connected_components.sql), the engine for Spark and for graphs larger than memory,
-- chosen with var kith__identity_engine = 'sql'. Labels equal the scipy engine's (smallest node id of
-- the component). Nodes without links are absent: int_identity_components adds them as singletons.
{{ kith_connected_components_model(ref('int_identity_links')) }}
