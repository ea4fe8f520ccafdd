-- Person-like source records (CRM contacts, loyalty members, shop accounts), one row per record,
-- with the attributes that probabilistic matching compares. Values staging flags as junk are null
-- here, so they are never compared. Names are reduced to lowercase letters (case, accents, spaces,
-- hyphens and apostrophes are not differences); shop accounts carry no postcode, so they
-- take the one their orders ship to most often.
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

stg_shop__orders as (

    select * from {{ ref('stg_shop__orders') }}

),

crm_contacts as (

    select
        'crm.contacts:' || crm_id as record_id,
        'crm' as source_system,
        'crm_id' as anchor_identifier_type,
        crm_id as anchor_identifier_value,
        case when not is_first_name_junk then first_name end as first_name,
        case when not is_last_name_junk then last_name end as last_name,
        birth_date,
        address_line1,
        case when not is_postcode_junk then postcode end as postcode,
        case when not is_email_junk then canonical_email end as email,
        case when not is_phone_junk then phone_e164 end as phone,
        created_at as record_created_at
    from stg_crm__contacts

),

loyalty_members as (

    select
        'loyalty.members:' || loyalty_number as record_id,
        'loyalty' as source_system,
        'loyalty_number' as anchor_identifier_type,
        loyalty_number as anchor_identifier_value,
        case when not is_first_name_junk then first_name end as first_name,
        case when not is_last_name_junk then last_name end as last_name,
        birth_date,
        cast(null as {{ kith_type_string() }}) as address_line1,
        case when not is_postcode_junk then postcode end as postcode,
        case when not is_email_junk then canonical_email end as email,
        case when not is_phone_junk then phone_e164 end as phone,
        enrolled_at as record_created_at
    from stg_loyalty__members
    -- a placeholder card number cannot anchor an edge of the identity graph
    where not is_loyalty_number_junk

),

shop_shipping_postcodes as (

    -- the postcode an account's orders ship to most often (latest on a tie): its likely home
    {%- set most_shipped_to -%}
        row_number() over (
            partition by shop_customer_id
            order by count(*) desc, max(ordered_at) desc, shipping_postcode
        ) = 1
    {%- endset %}
    {% call kith_qualify(most_shipped_to) -%}
    select
        shop_customer_id,
        shipping_postcode as postcode
    from stg_shop__orders
    where
        shop_customer_id is not null
        and shipping_postcode is not null
        and not is_shipping_postcode_junk
    group by 1, 2
    {%- endcall %}

),

shop_customers as (

    select
        'shop.customers:' || stg_shop__customers.shop_customer_id as record_id,
        'shop' as source_system,
        'shop_customer_id' as anchor_identifier_type,
        stg_shop__customers.shop_customer_id as anchor_identifier_value,
        case when not stg_shop__customers.is_first_name_junk then stg_shop__customers.first_name end as first_name,
        case when not stg_shop__customers.is_last_name_junk then stg_shop__customers.last_name end as last_name,
        cast(null as date) as birth_date,
        cast(null as {{ kith_type_string() }}) as address_line1,
        shop_shipping_postcodes.postcode,
        case when not stg_shop__customers.is_email_junk then stg_shop__customers.canonical_email end as email,
        case when not stg_shop__customers.is_phone_junk then stg_shop__customers.phone_e164 end as phone,
        stg_shop__customers.created_at as record_created_at
    from stg_shop__customers
    left join shop_shipping_postcodes
        on stg_shop__customers.shop_customer_id = shop_shipping_postcodes.shop_customer_id

),

unioned as (

    select * from crm_contacts
    {{ kith_union_all_by_name() }}
    select * from loyalty_members
    {{ kith_union_all_by_name() }}
    select * from shop_customers

),

normalised as (

    select
        record_id,
        source_system,
        anchor_identifier_type,
        anchor_identifier_value,
        nullif({{ kith_regexp_replace('lower(first_name)', "'[^\\p{L}]'", "''") }}, '') as first_name,
        nullif({{ kith_regexp_replace('lower(last_name)', "'[^\\p{L}]'", "''") }}, '') as last_name,
        -- a birth date on the epoch's placeholders or not before the record was created is junk
        case
            when
                birth_date > date '1900-01-01'
                and birth_date < cast(record_created_at as date)
                then birth_date
        end as birth_date,
        lower({{ squish_whitespace('address_line1') }}) as address_line1,
        postcode,
        email,
        phone
    from unioned

)

select * from normalised
