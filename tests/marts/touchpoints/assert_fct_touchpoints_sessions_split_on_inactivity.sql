-- Sessions, checked on the mart itself (so an incremental run that stitched them wrongly fails):
-- per channel and cookie/device in time order, an event starts a session exactly when more than
-- `kith__session_timeout_minutes` passed since the previous one; it then starts at that event,
-- otherwise it continues the previous event's session; the id is md5(channel | key | start).
{%- set timeout_minutes = var('kith__session_timeout_minutes') | int %}
with

session_events as (

    select
        touchpoint_id,
        channel,
        case channel when 'web' then anonymous_id when 'app' then device_id end as session_key,
        occurred_at,
        session_id,
        session_started_at
    from {{ ref('fct_touchpoints') }}
    where channel in ('web', 'app')

),

with_previous as (

    select
        *,
        lag(occurred_at) over by_key as previous_occurred_at,
        lag(session_id) over by_key as previous_session_id,
        lag(session_started_at) over by_key as previous_session_started_at
    from session_events
    window by_key as (partition by channel, session_key order by occurred_at, touchpoint_id)

),

checked as (

    select
        *,
        coalesce(occurred_at - previous_occurred_at > {{ kith_minutes(timeout_minutes) }}, true) as should_start
    from with_previous

),

broken as (

    select *
    from checked
    where
        session_id is distinct from md5(
            channel || '|' || session_key || '|' || {{ kith_format_date('session_started_at', '%Y-%m-%d %H:%M:%S.%f') }}
        )
        or (should_start and session_started_at is distinct from occurred_at)
        or (not should_start and session_started_at is distinct from previous_session_started_at)

)

select * from broken
