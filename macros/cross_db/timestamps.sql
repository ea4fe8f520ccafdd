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
