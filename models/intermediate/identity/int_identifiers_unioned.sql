{#-
    Every identifier seen in every source record, one row per (record, identifier).
    High-volume event streams (web, app) are first reduced to their distinct identifier
    combinations: the graph needs which identifiers co-occur, and the first record that shows it.
    Each entry: the staging model, the record key, the time column, and the identifiers it carries
    as (identifier_type, column, junk flag or 'false').
-#}
{%- set sources = [
    {'model': 'stg_web__events', 'system': 'web', 'entity': 'events', 'key': 'event_id', 'at': 'occurred_at',
     'aggregate': true, 'ids': [
        ('cookie_id', 'anonymous_id', 'false'),
        ('shop_customer_id', 'shop_customer_id', 'false'),
        ('email', 'canonical_email', 'is_email_junk')]},
    {'model': 'stg_app__events', 'system': 'app', 'entity': 'events', 'key': 'event_id', 'at': 'occurred_at',
     'aggregate': true, 'ids': [
        ('device_id', 'device_id', 'false'),
        ('shop_customer_id', 'shop_customer_id', 'false')]},
    {'model': 'stg_shop__customers', 'system': 'shop', 'entity': 'customers', 'key': 'shop_customer_id',
     'at': 'created_at', 'ids': [
        ('shop_customer_id', 'shop_customer_id', 'false'),
        ('email', 'canonical_email', 'is_email_junk'),
        ('phone', 'phone_e164', 'is_phone_junk')]},
    {'model': 'stg_shop__orders', 'system': 'shop', 'entity': 'orders', 'key': 'order_id', 'at': 'ordered_at',
     'ids': [
        ('order_id', 'order_id', 'false'),
        ('shop_customer_id', 'shop_customer_id', 'false'),
        ('cookie_id', 'anonymous_id', 'false'),
        ('email', 'canonical_email', 'is_email_junk'),
        ('phone', 'phone_e164', 'is_phone_junk')]},
    {'model': 'stg_pos__transactions', 'system': 'pos', 'entity': 'transactions', 'key': 'transaction_id',
     'at': 'transacted_at', 'ids': [
        ('pos_transaction_id', 'transaction_id', 'false'),
        ('loyalty_number', 'loyalty_number', 'is_loyalty_number_junk'),
        ('card_token', 'card_token', 'is_card_token_junk')]},
    {'model': 'stg_payments__payments', 'system': 'payments', 'entity': 'payments', 'key': 'payment_id',
     'at': 'processed_at', 'ids': [
        ('card_token', 'card_token', 'is_card_token_junk'),
        ('order_id', 'order_id', 'false'),
        ('pos_transaction_id', 'transaction_id', 'false')]},
    {'model': 'stg_helpdesk__tickets', 'system': 'helpdesk', 'entity': 'tickets', 'key': 'ticket_id',
     'at': 'created_at', 'ids': [
        ('email', 'requester_canonical_email', 'is_requester_email_junk'),
        ('phone', 'requester_phone_e164', 'is_requester_phone_junk'),
        ('order_id', 'order_reference', 'false')]},
    {'model': 'stg_crm__contacts', 'system': 'crm', 'entity': 'contacts', 'key': 'crm_id', 'at': 'created_at',
     'ids': [
        ('crm_id', 'crm_id', 'false'),
        ('email', 'canonical_email', 'is_email_junk'),
        ('phone', 'phone_e164', 'is_phone_junk')]},
    {'model': 'stg_loyalty__members', 'system': 'loyalty', 'entity': 'members', 'key': 'loyalty_number',
     'at': 'enrolled_at', 'ids': [
        ('loyalty_number', 'loyalty_number', 'is_loyalty_number_junk'),
        ('email', 'canonical_email', 'is_email_junk'),
        ('phone', 'phone_e164', 'is_phone_junk')]},
    {'model': 'stg_consent__events', 'system': 'consent', 'entity': 'events', 'key': 'consent_event_id',
     'at': 'occurred_at', 'ids': [
        ('crm_id', 'crm_id', 'false'),
        ('loyalty_number', 'loyalty_number', 'is_loyalty_number_junk'),
        ('shop_customer_id', 'shop_customer_id', 'false'),
        ('cookie_id', 'anonymous_id', 'false'),
        ('email', 'canonical_email', 'is_email_junk'),
        ('phone', 'phone_e164', 'is_phone_junk')]},
    {'model': 'stg_qr__scans', 'system': 'qr', 'entity': 'scans', 'key': 'scan_id', 'at': 'scanned_at',
     'ids': [
        ('cookie_id', 'anonymous_id', 'false'),
        ('loyalty_number', 'loyalty_number', 'is_loyalty_number_junk')]},
] -%}

with
{% for s in sources %}
{{ s.model }} as (

    select * from {{ ref(s.model) }}

),

{% endfor -%}
{%- for s in sources %}
{{ s.system }}_{{ s.entity }}_records as (

    select
        {%- for id_type, column, junk in s.ids %}
        {{ column }},
        {{ junk }} as is_{{ id_type }}_junk,
        {%- endfor %}
        {%- if s.aggregate %}
        -- one row per distinct combination of identifiers; the first event stands for the record
        min({{ s.key }}) as record_key,
        min({{ s.at }}) as first_seen_at,
        max({{ s.at }}) as last_seen_at
    from {{ s.model }}
    group by all
        {%- else %}
        {{ s.key }} as record_key,
        {{ s.at }} as first_seen_at,
        {{ s.at }} as last_seen_at
    from {{ s.model }}
        {%- endif %}

),

{% endfor -%}
unioned as (

    -- typed empty start, so that every source below is simply appended
    select
        cast(null as varchar) as record_id,
        cast(null as varchar) as source_system,
        cast(null as varchar) as source_entity,
        cast(null as varchar) as identifier_type,
        cast(null as varchar) as identifier_value,
        cast(null as boolean) as is_junk,
        cast(null as timestamp) as first_seen_at,
        cast(null as timestamp) as last_seen_at
    where false
    {%- for s in sources %}
    {%- for id_type, column, junk in s.ids %}

    union all

    select
        '{{ s.system }}.{{ s.entity }}:' || record_key as record_id,
        '{{ s.system }}' as source_system,
        '{{ s.entity }}' as source_entity,
        '{{ id_type }}' as identifier_type,
        {{ column }} as identifier_value,
        is_{{ id_type }}_junk as is_junk,
        first_seen_at,
        last_seen_at
    from {{ s.system }}_{{ s.entity }}_records
    where {{ column }} is not null and {{ column }} <> ''
    {%- endfor %}
    {%- endfor %}

)

select * from unioned
