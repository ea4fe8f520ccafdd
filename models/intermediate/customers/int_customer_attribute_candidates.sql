-- Every value a source system holds for a customer's profile attributes, one row per customer,
-- attribute group and source record: the candidates that survivorship chooses from. Person records
-- (CRM contacts, loyalty members, shop accounts) reach their customer through their anchor
-- identifier in the id map; values staging flags as junk are left out, and a group whose values
-- are all missing yields no candidate. Groups keep values that belong together (first and last
-- name; the lines of an address) in one candidate, so a name is never half CRM, half shop. The
-- record's creation time is kept too: the acquisition channel looks at when each source first
-- recorded the customer.
{%- set all_fields = [
    'first_name', 'last_name', 'birth_date', 'phone_e164', 'email',
    'address_line1', 'city', 'postcode', 'country_code',
] %}
{#- group, its fields, and when a record holds a candidate for it. A birth date on a placeholder
    (1900-01-01 and before) or not before the record was created is junk, as identity's person
    records judge it. -#}
{%- set attribute_groups = [
    ('name', ['first_name', 'last_name'], 'first_name is not null or last_name is not null'),
    ('email', ['email'], 'email is not null'),
    ('phone', ['phone_e164'], 'phone_e164 is not null'),
    ('birth_date', ['birth_date'], "birth_date > date '1900-01-01' and birth_date < cast(source_created_at as date)"),
    ('address', ['address_line1', 'city', 'postcode', 'country_code'], 'postcode is not null or address_line1 is not null'),
] %}

with

stg_crm__contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

stg_loyalty__members as (

    select * from {{ ref('stg_loyalty__members') }}

),

stg_shop__customers as (

    select * from {{ ref('stg_shop__customers') }}

),

int_identity_person_records as (

    select * from {{ ref('int_identity_person_records') }}

),

int_customer_ids_assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

crm_records as (

    select
        'crm.contacts:' || crm_id as source_record_id,
        'crm' as source_system,
        'crm_id' as anchor_identifier_type,
        crm_id as anchor_identifier_value,
        case when not is_first_name_junk then first_name end as first_name,
        case when not is_last_name_junk then last_name end as last_name,
        case when not is_email_junk then email end as email,
        case when not is_phone_junk then phone_e164 end as phone_e164,
        birth_date,
        address_line1,
        city,
        case when not is_postcode_junk then postcode end as postcode,
        country_code,
        created_at as source_created_at,
        coalesce(updated_at, created_at) as source_updated_at
    from stg_crm__contacts

),

loyalty_records as (

    select
        'loyalty.members:' || loyalty_number as source_record_id,
        'loyalty' as source_system,
        'loyalty_number' as anchor_identifier_type,
        loyalty_number as anchor_identifier_value,
        case when not is_first_name_junk then first_name end as first_name,
        case when not is_last_name_junk then last_name end as last_name,
        case when not is_email_junk then email end as email,
        case when not is_phone_junk then phone_e164 end as phone_e164,
        birth_date,
        cast(null as {{ kith_type_string() }}) as address_line1,
        cast(null as {{ kith_type_string() }}) as city,
        case when not is_postcode_junk then postcode end as postcode,
        cast(null as {{ kith_type_string() }}) as country_code,
        enrolled_at as source_created_at,
        coalesce(updated_at, enrolled_at) as source_updated_at
    from stg_loyalty__members
    where not is_loyalty_number_junk

),

shop_postcodes as (

    -- the postcode a shop account's orders ship to most often (identity's person records)
    select
        anchor_identifier_value as shop_customer_id,
        postcode
    from int_identity_person_records
    where source_system = 'shop'

),

shop_records as (

    select
        'shop.customers:' || stg_shop__customers.shop_customer_id as source_record_id,
        'shop' as source_system,
        'shop_customer_id' as anchor_identifier_type,
        stg_shop__customers.shop_customer_id as anchor_identifier_value,
        case when not stg_shop__customers.is_first_name_junk then stg_shop__customers.first_name end as first_name,
        case when not stg_shop__customers.is_last_name_junk then stg_shop__customers.last_name end as last_name,
        case when not stg_shop__customers.is_email_junk then stg_shop__customers.email end as email,
        case when not stg_shop__customers.is_phone_junk then stg_shop__customers.phone_e164 end as phone_e164,
        cast(null as date) as birth_date,
        cast(null as {{ kith_type_string() }}) as address_line1,
        cast(null as {{ kith_type_string() }}) as city,
        shop_postcodes.postcode,
        cast(null as {{ kith_type_string() }}) as country_code,
        stg_shop__customers.created_at as source_created_at,
        coalesce(stg_shop__customers.updated_at, stg_shop__customers.created_at) as source_updated_at
    from stg_shop__customers
    left join shop_postcodes
        on stg_shop__customers.shop_customer_id = shop_postcodes.shop_customer_id

),

person_records as (

    select * from crm_records
    union all
    select * from loyalty_records
    union all
    select * from shop_records

),

records_resolved as (

    select
        int_customer_ids_assigned.customer_id,
        person_records.*
    from person_records
    inner join int_customer_ids_assigned
        on
            person_records.anchor_identifier_type = int_customer_ids_assigned.identifier_type
            and person_records.anchor_identifier_value = int_customer_ids_assigned.identifier_value

),

-- one candidate per attribute group; `attribute_values` keeps the group's fields together (the
-- fields of other groups are null, so every candidate has the same struct type)
-- noqa: disable=LT02
candidates as (
{%- for group, fields, condition in attribute_groups %}

    select
        customer_id,
        '{{ group }}' as attribute_group,
        {%- set struct_fields = [] %}
        {%- for field in all_fields %}
            {%- if field not in fields %}
                {%- do struct_fields.append((field, 'null')) %}
            {%- elif field == 'birth_date' %}
                {%- do struct_fields.append((field, 'cast(birth_date as ' ~ kith_type_string() ~ ')')) %}
            {%- else %}
                {%- do struct_fields.append((field, field)) %}
            {%- endif %}
        {%- endfor %}
        {{ kith_struct(struct_fields) }} as attribute_values,
        source_system,
        source_record_id,
        source_created_at,
        source_updated_at
    from records_resolved
    where {{ condition }}
    {%- if not loop.last %}

    union all
    {%- endif %}
{%- endfor %}

)
-- noqa: enable=LT02

select * from candidates
