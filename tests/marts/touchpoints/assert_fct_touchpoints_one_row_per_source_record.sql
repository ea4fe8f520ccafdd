{{ config(group='data_platform') }}
-- Every source record is exactly one touchpoint: none lost (late events included), none added.
with

source_records as (

    select 'web:' || event_id as touchpoint_id from {{ ref('stg_web__events') }}
    union all
    select 'app:' || event_id as touchpoint_id from {{ ref('stg_app__events') }}
    union all
    select 'store:' || transaction_id as touchpoint_id from {{ ref('stg_pos__transactions') }}
    union all
    select 'qr:' || scan_id as touchpoint_id from {{ ref('stg_qr__scans') }}
    union all
    select 'helpdesk:' || ticket_id as touchpoint_id from {{ ref('stg_helpdesk__tickets') }}
    union all
    select 'consent:' || consent_event_id as touchpoint_id from {{ ref('stg_consent__events') }}

),

fct_touchpoints as (

    select touchpoint_id from {{ ref('fct_touchpoints') }}

),

differences as (

    select
        coalesce(source_records.touchpoint_id, fct_touchpoints.touchpoint_id) as touchpoint_id,
        source_records.touchpoint_id is null as is_only_in_fct_touchpoints
    from source_records
    full outer join fct_touchpoints
        on source_records.touchpoint_id = fct_touchpoints.touchpoint_id
    where source_records.touchpoint_id is null or fct_touchpoints.touchpoint_id is null

)

select * from differences
