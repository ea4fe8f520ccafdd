-- Edges between identifiers that occur in the same record, one row per distinct pair (a < b),
-- with the record that first showed the pair. Junk identifiers (flagged in staging) never link.
with int_identifiers_unioned as (

    select * from {{ ref('int_identifiers_unioned') }}

),

usable as (

    select
        record_id,
        identifier_type,
        identifier_value,
        first_seen_at,
        last_seen_at
    from int_identifiers_unioned
    where not is_junk

),

pairs as (

    select
        a.record_id,
        a.identifier_type as identifier_type_a,
        a.identifier_value as identifier_value_a,
        b.identifier_type as identifier_type_b,
        b.identifier_value as identifier_value_b,
        a.first_seen_at,
        a.last_seen_at
    from usable as a
    inner join usable as b
        on
            a.record_id = b.record_id
            and (
                a.identifier_type < b.identifier_type
                or (a.identifier_type = b.identifier_type and a.identifier_value < b.identifier_value)
            )

),

edges as (

    select
        identifier_type_a,
        identifier_value_a,
        identifier_type_b,
        identifier_value_b,
        min(record_id) as first_record_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        count(*) as record_count
    from pairs
    group by 1, 2, 3, 4

)

select * from edges
