-- The review queue of probabilistic matching: pairs scored between the review and the link
-- threshold (or above it with a conflicting first name or birth date), with both records'
-- attributes side by side for a person to judge.
with

int_identity_probabilistic_matches as (

    select * from {{ ref('int_identity_probabilistic_matches') }}

),

int_identity_person_records as (

    select * from {{ ref('int_identity_person_records') }}

),

reviews as (

    select *
    from int_identity_probabilistic_matches
    where decision = 'review'

),

side_by_side as (

    select
        reviews.record_id_a,
        reviews.record_id_b,
        reviews.match_probability,
        reviews.match_weight,
        reviews.shares_identifier,
        reviews.has_conflict,
        reviews.source_system_a,
        reviews.source_system_b,
        reviews.anchor_identifier_type_a,
        reviews.anchor_identifier_value_a,
        reviews.anchor_identifier_type_b,
        reviews.anchor_identifier_value_b,
        record_a.first_name as first_name_a,
        record_b.first_name as first_name_b,
        record_a.last_name as last_name_a,
        record_b.last_name as last_name_b,
        record_a.birth_date as birth_date_a,
        record_b.birth_date as birth_date_b,
        record_a.address_line1 as address_line1_a,
        record_b.address_line1 as address_line1_b,
        record_a.postcode as postcode_a,
        record_b.postcode as postcode_b,
        record_a.email as email_a,
        record_b.email as email_b,
        record_a.phone as phone_a,
        record_b.phone as phone_b,
        reviews.evidence
    from reviews
    inner join int_identity_person_records as record_a
        on reviews.record_id_a = record_a.record_id
    inner join int_identity_person_records as record_b
        on reviews.record_id_b = record_b.record_id

)

select * from side_by_side
