{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy=kith_new_rows_strategy(),
        full_refresh=false,
    )
}}
-- Every customer_id ever issued, with the identifier it was derived from. Never rebuilt from
-- scratch (full_refresh=false): it is what keeps ids stable when late data or a merge would
-- otherwise change a cluster's anchor. Erasure (kith forget) removes rows explicitly.
with int_customer_ids_assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

anchors as (

    select
        customer_id,
        identifier_type as anchor_identifier_type,
        identifier_value as anchor_identifier_value,
        first_seen_at as anchor_first_seen_at,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as issued_at
    from int_customer_ids_assigned
    where is_anchor and not was_issued_before

)

select * from anchors
{%- if is_incremental() %}
where customer_id not in (select customer_id from {{ this }})
{%- endif %}
