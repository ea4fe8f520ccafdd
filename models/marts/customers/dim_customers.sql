-- The golden customer record: one row per customer_id of the id map. Each profile attribute
-- group (name, email, phone, birth date, address) is the survivor chosen by the survivorship
-- rules, with the source system it came from; all identifiers the customer is known by; consent per
-- channel and purpose as it stands now; loyalty tier and points; first and last seen; the channel
-- that brought the customer in; and the home store.
{%- set consent_columns = [
    ('email', 'marketing'),
    ('sms', 'marketing'),
    ('phone', 'marketing'),
    ('push', 'marketing'),
    ('push', 'personalisation'),
    ('ads', 'analytics'),
    ('ads', 'profiling'),
] %}
{%- set identifier_lists = [
    ('email', 'emails'),
    ('phone', 'phones'),
    ('crm_id', 'crm_ids'),
    ('loyalty_number', 'loyalty_numbers'),
    ('shop_customer_id', 'shop_customer_ids'),
    ('cookie_id', 'cookie_ids'),
    ('device_id', 'device_ids'),
] %}

with

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

int_customer_attributes_survived as (

    select * from {{ ref('int_customer_attributes_survived') }}

),

int_customer_loyalty_accounts as (

    select * from {{ ref('int_customer_loyalty_accounts') }}

),

int_customer_attribute_candidates as (

    select * from {{ ref('int_customer_attribute_candidates') }}

),

dim_customer_consents as (

    select * from {{ ref('dim_customer_consents') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

-- The linter misreads the indentation of the jinja loops below once the cross-db macros render in
-- them (the loops are indented as before): LT02 is off from here to the end of the file
-- noqa: disable=LT02
identifiers as (

    select
        customer_id,
        {%- for identifier_type, column in identifier_lists %}
            coalesce(
                {{ kith_list_agg(
                    'identifier_value', 'identifier_value', "identifier_type = '" ~ identifier_type ~ "'"
                ) }},
                {{ kith_empty_list() }}
            ) as {{ column }},
        {%- endfor %}
        count(*) as identifier_count,
        bool_or(identifier_type in ('email', 'phone', 'crm_id', 'loyalty_number', 'shop_customer_id'))
            as is_known,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from dim_customer_identifiers
    group by 1

),

survivors_unpacked as (

    select
        customer_id,
        attribute_group,
        source_system,
        {{ kith_struct_field('attribute_values', 'first_name') }} as first_name,
        {{ kith_struct_field('attribute_values', 'last_name') }} as last_name,
        {{ kith_struct_field('attribute_values', 'email') }} as email,
        {{ kith_struct_field('attribute_values', 'phone_e164') }} as phone_e164,
        {{ kith_struct_field('attribute_values', 'birth_date') }} as birth_date,
        {{ kith_struct_field('attribute_values', 'address_line1') }} as address_line1,
        {{ kith_struct_field('attribute_values', 'city') }} as city,
        {{ kith_struct_field('attribute_values', 'postcode') }} as postcode,
        {{ kith_struct_field('attribute_values', 'country_code') }} as country_code
    from int_customer_attributes_survived

),

attributes as (

    select
        customer_id,
        max(first_name) filter (where attribute_group = 'name') as first_name,
        max(last_name) filter (where attribute_group = 'name') as last_name,
        max(source_system) filter (where attribute_group = 'name') as name_source,
        max(email) filter (where attribute_group = 'email') as email,
        max(source_system) filter (where attribute_group = 'email') as email_source,
        max(phone_e164) filter (where attribute_group = 'phone') as phone_e164,
        max(source_system) filter (where attribute_group = 'phone') as phone_source,
        cast(max(birth_date) filter (where attribute_group = 'birth_date') as date) as birth_date,
        max(source_system) filter (where attribute_group = 'birth_date') as birth_date_source,
        max(address_line1) filter (where attribute_group = 'address') as address_line1,
        max(city) filter (where attribute_group = 'address') as city,
        max(postcode) filter (where attribute_group = 'address') as postcode,
        max(country_code) filter (where attribute_group = 'address') as country_code,
        max(source_system) filter (where attribute_group = 'address') as address_source
    from survivors_unpacked
    group by 1

),

consents as (

    select
        customer_id,
        {%- for channel, purpose in consent_columns %}
            coalesce(
                bool_or(is_granted) filter (
                    where consent_channel = '{{ channel }}' and consent_purpose = '{{ purpose }}'
                ),
                false
            ) as has_{{ channel }}_{{ purpose }}_consent,
        {%- endfor %}
        max(changed_at) as consent_changed_at
    from dim_customer_consents
    group by 1

),

-- the earliest thing the customer did or that recorded them: the channel that acquired them
first_interactions as (

    select
        customer_id,
        channel,
        occurred_at
    from fct_touchpoints
    where customer_id is not null and channel <> 'consent'

    union all

    select
        customer_id,
        case when order_channel = 'online' then 'web' else 'store' end as channel,
        ordered_at as occurred_at
    from fct_orders
    where customer_id is not null

    union all

    -- a CRM contact, loyalty enrolment or shop account created before any recorded activity
    select
        customer_id,
        case when source_system = 'shop' then 'web' else source_system end as channel,
        source_created_at as occurred_at
    from int_customer_attribute_candidates
    where source_created_at is not null

),

acquisitions as (

    select
        customer_id,
        -- ties at one instant: the alphabetically first channel, so the choice is stable
        {{ kith_arg_min('channel', ['occurred_at', 'channel']) }} as acquisition_channel,
        min(occurred_at) as acquired_at
    from first_interactions
    group by 1

),

store_purchases as (

    -- the store a customer buys in most often (latest purchase on a tie)
    {% call kith_qualify(
        "row_number() over (partition by customer_id order by count(*) desc, max(ordered_at) desc, store_id) = 1"
    ) -%}
    select
        customer_id,
        store_id
    from fct_orders
    where customer_id is not null and store_id is not null and not is_cancelled
    group by 1, 2
    {%- endcall %}

),

customers as (

    select
        -- ids
        identifiers.customer_id,
        int_customer_loyalty_accounts.loyalty_number,
        coalesce(int_customer_loyalty_accounts.home_store_id, store_purchases.store_id) as home_store_id,

        -- strings
        attributes.first_name,
        attributes.last_name,
        attributes.name_source,
        attributes.email,
        attributes.email_source,
        attributes.phone_e164,
        attributes.phone_source,
        attributes.birth_date_source,
        attributes.address_line1,
        attributes.city,
        attributes.postcode,
        attributes.country_code,
        attributes.address_source,
        int_customer_loyalty_accounts.loyalty_tier,
        case
            when int_customer_loyalty_accounts.home_store_id is not null then 'loyalty'
            when store_purchases.store_id is not null then 'purchases'
        end as home_store_source,
        acquisitions.acquisition_channel,

        -- lists
        {%- for identifier_type, column in identifier_lists %}
            identifiers.{{ column }},
        {%- endfor %}

        -- numerics
        identifiers.identifier_count,
        int_customer_loyalty_accounts.points_balance as loyalty_points_balance,
        coalesce(int_customer_loyalty_accounts.loyalty_card_count, 0) as loyalty_card_count,

        -- booleans
        identifiers.is_known,
        int_customer_loyalty_accounts.customer_id is not null as is_loyalty_member,
        {%- for channel, purpose in consent_columns %}
            coalesce(consents.has_{{ channel }}_{{ purpose }}_consent, false)
                as has_{{ channel }}_{{ purpose }}_consent,
        {%- endfor %}

        -- dates
        attributes.birth_date,

        -- timestamps
        least(identifiers.first_seen_at, acquisitions.acquired_at) as first_seen_at,
        identifiers.last_seen_at,
        acquisitions.acquired_at,
        int_customer_loyalty_accounts.first_enrolled_at as loyalty_enrolled_at,
        consents.consent_changed_at

    from identifiers
    left join attributes
        on identifiers.customer_id = attributes.customer_id
    left join int_customer_loyalty_accounts
        on identifiers.customer_id = int_customer_loyalty_accounts.customer_id
    left join consents
        on identifiers.customer_id = consents.customer_id
    left join acquisitions
        on identifiers.customer_id = acquisitions.customer_id
    left join store_purchases
        on identifiers.customer_id = store_purchases.customer_id

)

select * from customers
