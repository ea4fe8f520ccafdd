{#- Incremental identity resolution (DECISIONS.md, "Incremental identity").

    The identifier union, its edges and its nodes are built incrementally on DuckDB: a run reads
    the records loaded since the last build, and recomputes only the identifiers those records
    carry (now or before this run). Cases an incremental run cannot follow fall back to a full
    recompute, with the reason in dbt's log: a first build, `--full-refresh`, an engine whose
    identity models are plain tables (Spark), changed identity rules, or an erasure (`kith forget`)
    since the last build. -#}

{#- The plan of this run for the incremental identity models: a dict with `mode` ('incremental'
    or 'full'), `reason` (why full) and `loaded_until` (the watermark: the newest dlt load id already
    processed, as a SQL string literal; load ids are epoch seconds with ten integer digits, so they
    sort as strings, and a filter on the plain column reaches the raw table's scan). The same answer in every model of one run: it reads only
    state those models do not change before the last of them (int_identity_nodes) has run. -#}
{% macro kith_identity_incremental_plan() -%}
    {{- return(adapter.dispatch('kith_identity_incremental_plan', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_identity_incremental_plan() -%}
    {%- if not execute or this is none -%}
        {#- parsing, or a unit test (no relation of its own): the models compile in full -#}
        {{- return({'mode': 'full', 'reason': 'parsing or unit test', 'loaded_until': none}) -}}
    {%- endif -%}
    {%- if flags.FULL_REFRESH -%}
        {{- return(kith_identity_plan_full('--full-refresh requested')) -}}
    {%- endif -%}
    {%- set relations = {} -%}
    {%- for name in ['int_identifiers_unioned', 'int_identity_edges_built', 'int_identity_nodes'] -%}
        {%- set relation = adapter.get_relation(database=this.database, schema=this.schema, identifier=name) -%}
        {%- if relation is none -%}
            {{- return(kith_identity_plan_full(name ~ ' does not exist yet')) -}}
        {%- endif -%}
        {%- do relations.update({name: relation}) -%}
    {%- endfor -%}
    {%- set columns = adapter.get_columns_in_relation(relations['int_identifiers_unioned']) | map(attribute='name') | list -%}
    {%- if 'record_group' not in columns or 'dlt_load_id' not in columns -%}
        {{- return(kith_identity_plan_full('int_identifiers_unioned predates incremental identity')) -}}
    {%- endif -%}
    {%- set rules = ref('identity_rules') -%}
    {%- set state -%}
        select
            (select max(dlt_load_id) from {{ relations['int_identifiers_unioned'] }}) as loaded_until,
            (
                select count(*) from (
                    select distinct
                        identifier_type,
                        priority,
                        can_link_alone,
                        max_per_customer
                    from {{ relations['int_identity_nodes'] }}
                    except
                    select
                        identifier_type,
                        priority,
                        can_link_alone,
                        max_per_customer
                    from {{ rules }}
                )
            ) as rules_changed,
            (select cast(max(refreshed_at) as varchar) from {{ relations['int_identity_nodes'] }}) as refreshed_at
    {%- endset -%}
    {%- set row = run_query(state).rows[0] -%}
    {%- if row[0] is none -%}
        {{- return(kith_identity_plan_full('no identifiers were processed before')) -}}
    {%- endif -%}
    {%- if row[1] > 0 -%}
        {{- return(kith_identity_plan_full('identity_rules changed since the last build')) -}}
    {%- endif -%}
    {%- set erasures = adapter.get_relation(database=this.database, schema='privacy', identifier='erasure_log') -%}
    {%- if erasures is not none and row[2] is not none -%}
        {%- set erased -%}
            select count(*) from {{ erasures }}
            where coalesce(completed_at, requested_at) >= cast('{{ row[2] }}' as timestamp)
        {%- endset -%}
        {%- set n_erased = run_query(erased).rows[0][0] -%}
        {%- if n_erased > 0 -%}
            {{- return(kith_identity_plan_full(n_erased ~ ' erasure(s) (kith forget) since the last build')) -}}
        {%- endif -%}
    {%- endif -%}
    {{- return({'mode': 'incremental', 'reason': none, 'loaded_until': "'" ~ row[0] ~ "'"}) -}}
{%- endmacro %}

{#- Spark builds the identity models as tables (kith_incremental_materialization): always in full. -#}
{% macro spark__kith_identity_incremental_plan() -%}
    {{- return({'mode': 'full', 'reason': 'Spark builds identity in full', 'loaded_until': none}) -}}
{%- endmacro %}

{% macro kith_identity_plan_full(reason) -%}
    {%- if execute and model is defined and model.name == 'int_identifiers_changed' -%}
        {{- log('Identity resolution: full recompute: ' ~ reason, info=true) -}}
    {%- endif -%}
    {{- return({'mode': 'full', 'reason': reason, 'loaded_until': none}) -}}
{%- endmacro %}

{#- True when this model adds to what it holds (an incremental run of an incremental model);
    false when it is built from scratch, or must be replaced whole (a full recompute decided by the
    plan while the table exists: kith_identity_replace_all empties it first). -#}
{% macro kith_identity_is_incremental(plan) -%}
    {{- return(plan['mode'] == 'incremental' and is_incremental()) -}}
{%- endmacro %}

{#- Pre-hook of an incremental identity model: empties the table before a full recompute that the
    plan decided while the table exists (the model then inserts everything). -#}
{% macro kith_identity_replace_all() -%}
    {%- set plan = kith_identity_incremental_plan() -%}
    {%- if this is not none and plan['mode'] == 'full' and is_incremental() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The key of a group of identifier columns, null-safe and unambiguous (`v<value>` or `n` per
    column, joined by the unit separator): an aggregated event stream's record key. -#}
{% macro kith_identity_combination_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce('v' || {{ column }}, 'n'){% if not loop.last %} || chr(31) ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- Pre-hook of int_identifiers_unioned on an incremental run: deletes the records (record groups)
    this run reprocesses; the model then appends their new version. -#}
{% macro kith_identity_delete_replaced_records() -%}
    {%- set plan = kith_identity_incremental_plan() -%}
    {%- if kith_identity_is_incremental(plan) -%}
        delete from {{ this }}
        where record_group in (select record_group from {{ ref('int_identifiers_changed') }})
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of int_identity_edges_built on an incremental run: deletes every edge touching an
    identifier of a reprocessed record (its old or new version); the model recomputes them. -#}
{% macro kith_identity_delete_touched_edges() -%}
    {%- set plan = kith_identity_incremental_plan() -%}
    {%- if kith_identity_is_incremental(plan) -%}
        delete from {{ this }}
        where
            exists (
                select 1 from {{ ref('int_identifiers_changed') }} as changed
                where
                    changed.identifier_type = {{ this.identifier }}.identifier_type_a
                    and changed.identifier_value = {{ this.identifier }}.identifier_value_a
            )
            or exists (
                select 1 from {{ ref('int_identifiers_changed') }} as changed
                where
                    changed.identifier_type = {{ this.identifier }}.identifier_type_b
                    and changed.identifier_value = {{ this.identifier }}.identifier_value_b
            )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of int_identity_nodes on an incremental run: deletes the nodes of identifiers that no
    record carries any more (a reprocessed record dropped the last one). -#}
{% macro kith_identity_delete_vanished_nodes() -%}
    {%- set plan = kith_identity_incremental_plan() -%}
    {%- if kith_identity_is_incremental(plan) -%}
        delete from {{ this }}
        where
            exists (
                select 1 from {{ ref('int_identifiers_changed') }} as changed
                where
                    changed.identifier_type = {{ this.identifier }}.identifier_type
                    and changed.identifier_value = {{ this.identifier }}.identifier_value
            )
            and not exists (
                select 1 from {{ ref('int_identifiers_unioned') }} as unioned
                where
                    unioned.identifier_type = {{ this.identifier }}.identifier_type
                    and unioned.identifier_value = {{ this.identifier }}.identifier_value
                    and not unioned.is_junk
            )
    {%- endif -%}
{%- endmacro %}


{#- The identifier rows of the source records, one row per (record, identifier), as the SQL of a
    query (import CTEs, one per source, the union): every record, or (`since`, a SQL timestamp) the
    records loaded after it. High-volume event streams (web, app) are reduced to their distinct
    identifier combinations (`record_group`), the first event standing for the record; with `since`
    the aggregates cover the new events only, and the caller merges them with the ones it holds
    (min and max combine; events are immutable). Each source: the staging model, the record key,
    the time column, and the identifiers it carries as (identifier_type, column, junk flag or
    'false'). Shared by int_identifiers_unioned (a full build) and int_identifiers_changed. -#}
{% macro kith_identity_identifier_rows(since=none) -%}
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
{%- set id_columns = s.ids | map(attribute=1) | unique | list %}
{{ s.system }}_{{ s.entity }}_records as (

    select
        {%- for id_type, column, junk in s.ids %}
        {{ s.model }}.{{ column }},
        {{ junk }} as is_{{ id_type }}_junk,
        {%- endfor %}
        {%- if s.aggregate %}
        -- one row per distinct combination of identifiers; the first event stands for the record
        '{{ s.system }}.{{ s.entity }}#' || {{ kith_identity_combination_key(id_columns) }} as record_group,
        min({{ s.model }}.{{ s.key }}) as record_key,
        min({{ s.model }}.{{ s.at }}) as first_seen_at,
        max({{ s.model }}.{{ s.at }}) as last_seen_at,
        max({{ s.model }}.dlt_loaded_at) as dlt_loaded_at,
        max({{ s.model }}.dlt_load_id) as dlt_load_id
    from {{ s.model }}
        {%- if since is not none %}
    where {{ s.model }}.dlt_load_id > {{ since }}
        {%- endif %}
    group by all
        {%- else %}
        '{{ s.system }}.{{ s.entity }}:' || {{ s.model }}.{{ s.key }} as record_group,
        {{ s.model }}.{{ s.key }} as record_key,
        {{ s.model }}.{{ s.at }} as first_seen_at,
        {{ s.model }}.{{ s.at }} as last_seen_at,
        {{ s.model }}.dlt_loaded_at,
        {{ s.model }}.dlt_load_id
    from {{ s.model }}
        {%- if since is not none %}
    where {{ s.model }}.dlt_load_id > {{ since }}
        {%- endif %}
        {%- endif %}

),

{% endfor -%}
unioned as (

    -- typed empty start, so that every source below is simply appended
    select
        cast(null as {{ kith_type_string() }}) as record_id,
        cast(null as {{ kith_type_string() }}) as source_system,
        cast(null as {{ kith_type_string() }}) as source_entity,
        cast(null as {{ kith_type_string() }}) as identifier_type,
        cast(null as {{ kith_type_string() }}) as identifier_value,
        cast(null as boolean) as is_junk,
        cast(null as timestamp) as first_seen_at,
        cast(null as timestamp) as last_seen_at,
        cast(null as {{ kith_type_string() }}) as record_group,
        cast(null as timestamp) as dlt_loaded_at,
        cast(null as {{ kith_type_string() }}) as dlt_load_id
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
        last_seen_at,
        record_group,
        dlt_loaded_at,
        dlt_load_id
    from {{ s.system }}_{{ s.entity }}_records
    where {{ column }} is not null and {{ column }} <> ''
    {%- endfor %}
    {%- endfor %}

)

select * from unioned
{%- endmacro %}
