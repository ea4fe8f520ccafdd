{#-
    Fails when the newest `field` value is older than `interval` `datepart`s before the reference
    time, or when the model has no non-null `field` value at all.
    The reference time is now (current_timestamp) unless `reference_timestamp` is given: a date or
    timestamp literal, typically "var('kith__as_of_date')" (dbt renders a bare var() argument).
    A null or empty value falls back to now, so one var serves both point-in-time builds on old
    sample data and production.
-#}
{% test recency(model, field, datepart, interval, reference_timestamp=none) %}

{%- set reference_text = (reference_timestamp if reference_timestamp is not none else '') | string | trim -%}
{%- if reference_text in ('', 'None', 'none') -%}
    {%- set reference = dbt.current_timestamp() -%}
{%- else -%}
    {%- set reference = "'" ~ dbt.escape_single_quotes(reference_text) ~ "'" -%}
{%- endif -%}
{%- set reference = "cast(" ~ reference ~ " as " ~ dbt.type_timestamp() ~ ")" %}

with recency as (

    select max(cast({{ field }} as {{ dbt.type_timestamp() }})) as most_recent
    from {{ model }}

),

threshold as (

    select
        most_recent,
        {{ dbt.dateadd(datepart, -1 * (interval | int), reference) }} as threshold
    from recency

)

select *
from threshold
where most_recent is null or most_recent < threshold

{% endtest %}
