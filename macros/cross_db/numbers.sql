{#- Numbers. -#}

{#- A double as decimal(precision, scale), rounded as DuckDB's cast rounds: the double times
    10^scale (in double arithmetic), to the nearest integer, ties away from zero. Spark's own cast
    rounds the double's shortest decimal form instead (64.475, stored as 64.47499.., is 64.48 on
    Spark and 64.47 on DuckDB), so the Spark version multiplies, rounds (round() is half away from
    zero) and divides itself. Averages and Python models' amounts go through it. -#}
{% macro kith_double_to_decimal(expression, precision, scale) -%}
    {{- return(adapter.dispatch('kith_double_to_decimal', 'kith')(expression, precision, scale)) -}}
{%- endmacro %}

{% macro default__kith_double_to_decimal(expression, precision, scale) -%}
    cast({{ expression }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}

{% macro spark__kith_double_to_decimal(expression, precision, scale) -%}
    {%- set factor = 10 ** scale -%}
    cast(round(cast({{ expression }} as double) * {{ factor }}, 0) / {{ factor }} as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}
