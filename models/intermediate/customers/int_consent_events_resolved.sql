-- Consent events with the customer they belong to. The event's identifiers are tried strongest
-- first (CRM id, loyalty number, shop account, email, phone, then the web cookie), as in
-- fct_touchpoints; an event none of them resolves has a null customer_id and is kept, so the
-- consent marts can count what they could not attribute.
{%- set candidates = [
    ('crm_id', 'crm_id'),
    ('loyalty_number', 'loyalty_number'),
    ('shop_customer_id', 'shop_customer_id'),
    ('email', 'canonical_email'),
    ('phone', 'phone_e164'),
    ('cookie_id', 'anonymous_id'),
] %}

with

stg_consent__events as (

    select * from {{ ref('stg_consent__events') }}

),

int_customer_ids_assigned as (

    select * from {{ ref('int_customer_ids_assigned') }}

),

consent_events as (

    select
        consent_event_id,
        crm_id,
        case when not is_loyalty_number_junk then loyalty_number end as loyalty_number,
        shop_customer_id,
        case when not is_email_junk then canonical_email end as canonical_email,
        case when not is_phone_junk then phone_e164 end as phone_e164,
        anonymous_id,
        consent_channel,
        consent_purpose,
        consent_status,
        is_granted,
        source_system,
        occurred_at
    from stg_consent__events

),

customers_resolved as (

    {{ kith_resolve_customers('consent_events', 'consent_event_id', candidates, 'int_customer_ids_assigned') }}

),

events_resolved as (

    select
        -- ids
        consent_events.consent_event_id,
        customers_resolved.customer_id,

        -- strings
        consent_events.consent_channel,
        consent_events.consent_purpose,
        consent_events.consent_status,
        consent_events.source_system,
        customers_resolved.customer_identifier_type,

        -- booleans
        consent_events.is_granted,

        -- timestamps
        consent_events.occurred_at

    from consent_events
    left join customers_resolved
        on consent_events.consent_event_id = customers_resolved.consent_event_id

)

select * from events_resolved
