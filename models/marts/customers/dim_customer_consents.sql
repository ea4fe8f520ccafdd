-- Current consent: one row per customer, channel and purpose the customer has ever been asked
-- about, with the state in force now and when it was set.
with

fct_customer_consent_periods as (

    select * from {{ ref('fct_customer_consent_periods') }}

),

current_consents as (

    select
        customer_id,
        consent_channel,
        consent_purpose,
        is_granted,
        source_system,
        consent_event_id,
        valid_from as changed_at
    from fct_customer_consent_periods
    where is_current

)

select * from current_consents
