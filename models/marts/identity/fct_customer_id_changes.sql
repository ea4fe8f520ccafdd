-- Every time an identifier moved from one customer_id to another: merges (the old id no longer
-- exists: its identifiers joined an older customer) and splits (the old id lives on, some of its
-- identifiers left it), with when, and the link that explains a merge.
with snap_customer_identifiers as (

    select * from {{ ref('snap_customer_identifiers') }}

),

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

moves as (

    select
        old_version.identifier_type,
        old_version.identifier_value,
        old_version.customer_id as previous_customer_id,
        new_version.customer_id,
        old_version.dbt_valid_to as changed_at
    from snap_customer_identifiers as old_version
    inner join snap_customer_identifiers as new_version
        on
            old_version.identifier_type = new_version.identifier_type
            and old_version.identifier_value = new_version.identifier_value
            and old_version.dbt_valid_to = new_version.dbt_valid_from
    where old_version.customer_id <> new_version.customer_id

),

live_ids as (

    select distinct customer_id from dim_customer_identifiers

),

classified as (

    select
        moves.previous_customer_id,
        moves.customer_id,
        moves.changed_at,
        case when live_ids.customer_id is null then 'merge' else 'split' end as change_type,
        count(*) as identifiers_moved,
        min(moves.identifier_type || ':' || moves.identifier_value) as example_identifier
    from moves
    left join live_ids
        on moves.previous_customer_id = live_ids.customer_id
    group by 1, 2, 3, 4

),

keyed as (

    select
        md5(previous_customer_id || '>' || customer_id || '@' || cast(changed_at as {{ kith_type_string() }}))
            as customer_id_change_id,
        previous_customer_id,
        customer_id,
        changed_at,
        change_type,
        identifiers_moved,
        example_identifier
    from classified

)

select * from keyed
