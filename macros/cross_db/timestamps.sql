{#- Timestamps. The raw layer stores instants (DuckDB TIMESTAMP WITH TIME ZONE; Spark TIMESTAMP,
    read from UTC-adjusted Parquet); the models use UTC wall-clock timestamps. -#}

{#- An instant as a UTC timestamp without time zone. -#}
{% macro kith_utc_timestamp(expression) -%}
    {{- return(adapter.dispatch('kith_utc_timestamp', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_utc_timestamp(expression) -%}
    {{ expression }} at time zone 'UTC'
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant shown in the session time zone, which the profile sets to UTC. -#}
{% macro spark__kith_utc_timestamp(expression) -%}
    {{ expression }}
{%- endmacro %}


{#- Seconds since the Unix epoch (a double) as an instant, to the nearest microsecond (ties to
    even). DuckDB `to_timestamp`; Spark's cast truncates, and its round() rounds ties up, so it
    rounds with bround() first (checked equal on 3,000 random load ids). -#}
{% macro kith_epoch_to_timestamp(expression) -%}
    {{- return(adapter.dispatch('kith_epoch_to_timestamp', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_epoch_to_timestamp(expression) -%}
    to_timestamp({{ expression }})
{%- endmacro %}

{% macro spark__kith_epoch_to_timestamp(expression) -%}
    timestamp_micros(cast(bround({{ expression }} * 1000000) as bigint))
{%- endmacro %}
