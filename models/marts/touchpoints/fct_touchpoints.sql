{{
    config(
        materialized=kith_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='touchpoint_id',
        on_schema_change='fail',
    )
}}
{#-
    Every interaction of a person with Kith's brand, one row per source record.

    Incremental (delete+insert on touchpoint_id). A run rebuilds, per channel:
      - the records of the last `kith__lookback_days` days before the newest one already built,
        and every record loaded after the newest load already built (events arrive up to ~6 days
        late: a window on event time alone would miss them; the load time catches them whatever
        their age);
      - for web and app, every event of each cookie/device with a new event, from the start of
        the session that the earliest new event falls in (or continues): sessions before it are
        closed and cannot change, so sessions equal a full refresh's;
      - helpdesk tickets and consent events in full (few rows; their identifiers are personal
        data that this mart does not keep);
      - any older row whose customer the id map now resolves differently (merges, splits, late
        links), from the identifiers the row keeps.
-#}
{%- set lookback_days = var('kith__lookback_days') | int %}
{%- set session_timeout_minutes = var('kith__session_timeout_minutes') | int %}
{#-
    Customer resolution: per channel, the record's identifiers in the order they are tried; the
    first one present in dim_customer_identifiers gives the customer. Web and app try the session
    key first (cookie, device), so a whole session belongs to one customer; a shared cookie or
    device is not in the id map, and the logged-in account decides. Store visits use the
    transaction id, as fct_orders does. The other channels follow identity_rules' priority.
-#}
{%- set identifier_priorities = {
    'web': [('cookie_id', 'anonymous_id'), ('shop_customer_id', 'shop_customer_id')],
    'app': [('device_id', 'device_id'), ('shop_customer_id', 'shop_customer_id')],
    'store': [('pos_transaction_id', 'order_id')],
    'qr': [('loyalty_number', 'loyalty_number'), ('cookie_id', 'anonymous_id')],
    'helpdesk': [('email', 'email'), ('phone', 'phone_e164'), ('order_id', 'order_reference')],
    'consent': [
        ('crm_id', 'crm_id'),
        ('loyalty_number', 'loyalty_number'),
        ('shop_customer_id', 'shop_customer_id'),
        ('email', 'email'),
        ('phone', 'phone_e164'),
        ('cookie_id', 'anonymous_id'),
    ],
} %}

with

stg_web__events as (

    select * from {{ ref('stg_web__events') }}

),

stg_app__events as (

    select * from {{ ref('stg_app__events') }}

),

stg_pos__transactions as (

    select * from {{ ref('stg_pos__transactions') }}

),

stg_qr__scans as (

    select * from {{ ref('stg_qr__scans') }}

),

stg_helpdesk__tickets as (

    select * from {{ ref('stg_helpdesk__tickets') }}

),

stg_consent__events as (

    select * from {{ ref('stg_consent__events') }}

),

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

-- every branch of the union below lists the same columns in the same order (Spark's union matches
-- columns by position; DuckDB's by name)
web_touchpoints as (

    select
        'web:' || event_id as touchpoint_id,
        event_type as touchpoint_type,
        'web' as channel,
        anonymous_id as session_key,
        occurred_at,
        received_at,
        sku,
        cast(null as {{ kith_type_string() }}) as store_id,
        cast(null as {{ kith_type_string() }}) as order_id,
        page_path,
        anonymous_id,
        cast(null as {{ kith_type_string() }}) as device_id,
        shop_customer_id,
        cast(null as {{ kith_type_string() }}) as loyalty_number,
        -- identifiers only used to resolve the customer (helpdesk, consent), not published
        cast(null as {{ kith_type_string() }}) as crm_id,
        cast(null as {{ kith_type_string() }}) as email,
        cast(null as {{ kith_type_string() }}) as phone_e164,
        cast(null as {{ kith_type_string() }}) as order_reference,
        dlt_loaded_at
    from stg_web__events

),

app_touchpoints as (

    select
        'app:' || event_id as touchpoint_id,
        event_type as touchpoint_type,
        'app' as channel,
        device_id as session_key,
        occurred_at,
        received_at,
        sku,
        cast(null as {{ kith_type_string() }}) as store_id,
        cast(null as {{ kith_type_string() }}) as order_id,
        cast(null as {{ kith_type_string() }}) as page_path,
        cast(null as {{ kith_type_string() }}) as anonymous_id,
        device_id,
        shop_customer_id,
        cast(null as {{ kith_type_string() }}) as loyalty_number,
        cast(null as {{ kith_type_string() }}) as crm_id,
        cast(null as {{ kith_type_string() }}) as email,
        cast(null as {{ kith_type_string() }}) as phone_e164,
        cast(null as {{ kith_type_string() }}) as order_reference,
        dlt_loaded_at
    from stg_app__events

),

store_touchpoints as (

    select
        'store:' || transaction_id as touchpoint_id,
        'store_visit' as touchpoint_type,
        'store' as channel,
        cast(null as {{ kith_type_string() }}) as session_key,
        transacted_at as occurred_at,
        cast(null as timestamp) as received_at,
        cast(null as {{ kith_type_string() }}) as sku,
        store_id,
        transaction_id as order_id,
        cast(null as {{ kith_type_string() }}) as page_path,
        cast(null as {{ kith_type_string() }}) as anonymous_id,
        cast(null as {{ kith_type_string() }}) as device_id,
        cast(null as {{ kith_type_string() }}) as shop_customer_id,
        loyalty_number,
        cast(null as {{ kith_type_string() }}) as crm_id,
        cast(null as {{ kith_type_string() }}) as email,
        cast(null as {{ kith_type_string() }}) as phone_e164,
        cast(null as {{ kith_type_string() }}) as order_reference,
        dlt_loaded_at
    from stg_pos__transactions

),

qr_touchpoints as (

    select
        'qr:' || scan_id as touchpoint_id,
        'qr_scan' as touchpoint_type,
        'qr' as channel,
        cast(null as {{ kith_type_string() }}) as session_key,
        scanned_at as occurred_at,
        cast(null as timestamp) as received_at,
        sku,
        store_id,
        cast(null as {{ kith_type_string() }}) as order_id,
        cast(null as {{ kith_type_string() }}) as page_path,
        anonymous_id,
        cast(null as {{ kith_type_string() }}) as device_id,
        cast(null as {{ kith_type_string() }}) as shop_customer_id,
        loyalty_number,
        cast(null as {{ kith_type_string() }}) as crm_id,
        cast(null as {{ kith_type_string() }}) as email,
        cast(null as {{ kith_type_string() }}) as phone_e164,
        cast(null as {{ kith_type_string() }}) as order_reference,
        dlt_loaded_at
    from stg_qr__scans

),

helpdesk_touchpoints as (

    select
        'helpdesk:' || ticket_id as touchpoint_id,
        'helpdesk_ticket' as touchpoint_type,
        'helpdesk' as channel,
        cast(null as {{ kith_type_string() }}) as session_key,
        created_at as occurred_at,
        cast(null as timestamp) as received_at,
        cast(null as {{ kith_type_string() }}) as sku,
        cast(null as {{ kith_type_string() }}) as store_id,
        cast(null as {{ kith_type_string() }}) as order_id,
        cast(null as {{ kith_type_string() }}) as page_path,
        cast(null as {{ kith_type_string() }}) as anonymous_id,
        cast(null as {{ kith_type_string() }}) as device_id,
        cast(null as {{ kith_type_string() }}) as shop_customer_id,
        cast(null as {{ kith_type_string() }}) as loyalty_number,
        cast(null as {{ kith_type_string() }}) as crm_id,
        requester_canonical_email as email,
        requester_phone_e164 as phone_e164,
        order_reference,
        dlt_loaded_at
    from stg_helpdesk__tickets

),

consent_touchpoints as (

    select
        'consent:' || consent_event_id as touchpoint_id,
        case when is_granted then 'consent_granted' else 'consent_withdrawn' end as touchpoint_type,
        'consent' as channel,
        cast(null as {{ kith_type_string() }}) as session_key,
        occurred_at,
        cast(null as timestamp) as received_at,
        cast(null as {{ kith_type_string() }}) as sku,
        cast(null as {{ kith_type_string() }}) as store_id,
        cast(null as {{ kith_type_string() }}) as order_id,
        cast(null as {{ kith_type_string() }}) as page_path,
        anonymous_id,
        cast(null as {{ kith_type_string() }}) as device_id,
        shop_customer_id,
        loyalty_number,
        crm_id,
        canonical_email as email,
        phone_e164,
        cast(null as {{ kith_type_string() }}) as order_reference,
        dlt_loaded_at
    from stg_consent__events

),

touchpoints_unioned as (

    select * from web_touchpoints
    {{ kith_union_all_by_name() }}
    select * from app_touchpoints
    {{ kith_union_all_by_name() }}
    select * from store_touchpoints
    {{ kith_union_all_by_name() }}
    select * from qr_touchpoints
    {{ kith_union_all_by_name() }}
    select * from helpdesk_touchpoints
    {{ kith_union_all_by_name() }}
    select * from consent_touchpoints

),

{% if is_incremental() %}

existing_touchpoints as (

    select
        *,
        case channel when 'web' then anonymous_id when 'app' then device_id end as session_key
    from {{ this }}

),

watermarks as (

    select
        channel,
        max(occurred_at) - to_days({{ lookback_days }}) as window_start,
        max(dlt_loaded_at) as loaded_until
    from existing_touchpoints
    group by 1

),

{% endif %}

-- everything on a full refresh; on an incremental run the records in the lookback window or
-- loaded since the last build, and the channels rebuilt in full
touchpoints_new as (

    select touchpoints_unioned.*
    from touchpoints_unioned
    {% if is_incremental() %}
    left join watermarks
        on touchpoints_unioned.channel = watermarks.channel
    where
        touchpoints_unioned.channel in ('helpdesk', 'consent')
        or watermarks.channel is null
        or touchpoints_unioned.occurred_at >= watermarks.window_start
        or touchpoints_unioned.dlt_loaded_at > watermarks.loaded_until
    {% endif %}

),

{% if is_incremental() %}

-- cookies and devices with new events, and the earliest of them
session_keys_changed as (

    select
        channel,
        session_key,
        min(occurred_at) as first_new_at
    from touchpoints_new
    where session_key is not null
    group by 1, 2

),

-- re-sessionize from the start of the session holding the last built event at or before the
-- earliest new one: the new events can extend, merge or follow that session, not earlier ones
session_restarts as (

    select
        session_keys_changed.channel,
        session_keys_changed.session_key,
        coalesce(max(existing_touchpoints.session_started_at), cast('-infinity' as timestamp)) as resessionize_from
    from session_keys_changed
    left join existing_touchpoints
        on
            session_keys_changed.channel = existing_touchpoints.channel
            and session_keys_changed.session_key = existing_touchpoints.session_key
            and session_keys_changed.first_new_at >= existing_touchpoints.occurred_at
    group by 1, 2

),

{% endif %}

-- web and app events to sessionize: all of them on a full refresh, else those of the
-- cookies/devices with new events, from their restart point
session_events as (

    select touchpoints_unioned.*
    from touchpoints_unioned
    {% if is_incremental() %}
    inner join session_restarts
        on
            touchpoints_unioned.channel = session_restarts.channel
            and touchpoints_unioned.session_key = session_restarts.session_key
            and touchpoints_unioned.occurred_at >= session_restarts.resessionize_from
    {% endif %}
    where touchpoints_unioned.session_key is not null

),

sessionless_events as (

    select * from touchpoints_new
    where session_key is null

),

-- a gap of more than the timeout after the previous event of the same cookie/device starts a
-- new session; a gap of exactly the timeout does not
session_starts_marked as (

    select
        *,
        coalesce(
            occurred_at - lag(occurred_at) over (
                partition by channel, session_key
                order by occurred_at, touchpoint_id
            ) > {{ kith_minutes(session_timeout_minutes) }},
            true
        ) as is_session_start
    from session_events

),

sessions_assigned as (

    select
        {{ kith_star_except(['is_session_start']) }},
        max(case when is_session_start then occurred_at end) over (
            partition by channel, session_key
            order by occurred_at, touchpoint_id
            rows between unbounded preceding and current row
        ) as session_started_at
    from session_starts_marked

),

sessions_identified as (

    select
        *,
        md5(
            channel || '|' || session_key || '|' || {{ kith_format_date('session_started_at', '%Y-%m-%d %H:%M:%S.%f') }}
        )
            as session_id
    from sessions_assigned

),

touchpoints_rebuilt as (

    select
        *,
        true as is_rebuilt
    from sessions_identified
    {{ kith_union_all_by_name() }}
    select
        *,
        cast(null as timestamp) as session_started_at,
        cast(null as {{ kith_type_string() }}) as session_id,
        true as is_rebuilt
    from sessionless_events

),

{% if is_incremental() %}

-- rows not rebuilt keep everything but their customer, which is resolved again below
touchpoints_kept as (

    select
        * exclude (customer_id, customer_identifier_type),
        customer_id as previous_customer_id,
        customer_identifier_type as previous_customer_identifier_type,
        false as is_rebuilt
    from existing_touchpoints
    where touchpoint_id not in (select touchpoints_rebuilt.touchpoint_id from touchpoints_rebuilt)

),

{% endif %}

touchpoints_to_resolve as (

    select * from touchpoints_rebuilt
    {% if is_incremental() %}
    {{ kith_union_all_by_name() }}
    select * from touchpoints_kept
    {% endif %}

),

-- noqa: disable=LT02
identifier_candidates as (
{%- for channel, identifiers in identifier_priorities.items() %}
{%- set channel_loop = loop %}
{%- for identifier_type, column in identifiers %}

    select
        touchpoint_id,
        {{ loop.index }} as candidate_rank,
        '{{ identifier_type }}' as identifier_type,
        {{ column }} as identifier_value
    from touchpoints_to_resolve
    where channel = '{{ channel }}' and {{ column }} is not null
    {%- if not (channel_loop.last and loop.last) %}

    union all
    {%- endif %}
{%- endfor %}
{%- endfor %}

),
-- noqa: enable=LT02

customers_resolved as (

    {% call kith_qualify(
        "row_number() over (partition by identifier_candidates.touchpoint_id"
        ~ " order by identifier_candidates.candidate_rank) = 1"
    ) -%}
    select
        identifier_candidates.touchpoint_id,
        dim_customer_identifiers.customer_id,
        identifier_candidates.identifier_type as customer_identifier_type
    from identifier_candidates
    inner join dim_customer_identifiers
        on
            identifier_candidates.identifier_type = dim_customer_identifiers.identifier_type
            and identifier_candidates.identifier_value = dim_customer_identifiers.identifier_value
    {%- endcall %}

),

touchpoints_resolved as (

    select
        -- ids
        touchpoints_to_resolve.touchpoint_id,
        customers_resolved.customer_id,
        touchpoints_to_resolve.session_id,
        touchpoints_to_resolve.sku,
        touchpoints_to_resolve.store_id,
        touchpoints_to_resolve.order_id,
        touchpoints_to_resolve.anonymous_id,
        touchpoints_to_resolve.device_id,
        touchpoints_to_resolve.shop_customer_id,
        touchpoints_to_resolve.loyalty_number,

        -- strings
        touchpoints_to_resolve.touchpoint_type,
        touchpoints_to_resolve.channel,
        customers_resolved.customer_identifier_type,
        touchpoints_to_resolve.page_path,

        -- dates
        cast(touchpoints_to_resolve.occurred_at as date) as touchpoint_date,

        -- timestamps
        touchpoints_to_resolve.occurred_at,
        touchpoints_to_resolve.received_at,
        touchpoints_to_resolve.session_started_at,

        -- lineage
        touchpoints_to_resolve.dlt_loaded_at

    from touchpoints_to_resolve
    left join customers_resolved
        on touchpoints_to_resolve.touchpoint_id = customers_resolved.touchpoint_id
    {%- if is_incremental() %}
    where
        touchpoints_to_resolve.is_rebuilt
        or customers_resolved.customer_id is distinct from touchpoints_to_resolve.previous_customer_id
        or customers_resolved.customer_identifier_type
        is distinct from touchpoints_to_resolve.previous_customer_identifier_type
    {% endif %}

)

select * from touchpoints_resolved
