-- Consent history as validity periods: one row per customer, channel and purpose for each span of
-- time with one consent state, from the event that set it to the next event that changed it
-- (valid_to null = still in force). Repeats of the same state (granted twice) extend the period
-- instead of starting a new one; of several events at the same instant the last by event id
-- counts. Activation checks consent at the time of a sync against these periods; a customer with
-- no period for a channel and purpose has not consented to it.
with

int_consent_events_resolved as (

    select * from {{ ref('int_consent_events_resolved') }}

),

events_attributed as (

    -- several events at one instant: the last (by event id) is the state from that instant on
    {% call kith_qualify(
        "row_number() over (partition by customer_id, consent_channel, consent_purpose, occurred_at"
        ~ " order by consent_event_id desc) = 1"
    ) -%}
    select * from int_consent_events_resolved
    where customer_id is not null
    {%- endcall %}

),

state_changes as (

    {% call kith_qualify(
        "is_granted is distinct from lag(is_granted) over ("
        ~ "partition by customer_id, consent_channel, consent_purpose order by occurred_at, consent_event_id)"
    ) -%}
    select * from events_attributed
    {%- endcall %}

),

periods as (

    select
        -- ids
        md5(customer_id || '|' || consent_channel || '|' || consent_purpose || '|' || consent_event_id)
            as consent_period_id,
        customer_id,
        consent_event_id,

        -- strings
        consent_channel,
        consent_purpose,
        source_system,

        -- booleans
        is_granted,
        lead(occurred_at) over (
            partition by customer_id, consent_channel, consent_purpose
            order by occurred_at, consent_event_id
        ) is null as is_current,

        -- timestamps
        occurred_at as valid_from,
        lead(occurred_at) over (
            partition by customer_id, consent_channel, consent_purpose
            order by occurred_at, consent_event_id
        ) as valid_to

    from state_changes

)

select * from periods
