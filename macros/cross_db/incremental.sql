{#- Incremental strategies per engine. -#}

{#- The strategy of an incremental model whose new rows never share a unique key with the rows it
    holds (its SQL selects only keys not in `this`): delete+insert on DuckDB, append on Spark
    (dbt-spark's Parquet tables have no delete; with disjoint keys both give the same table). -#}
{% macro kith_new_rows_strategy() -%}
    {{- return(adapter.dispatch('kith_new_rows_strategy', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_new_rows_strategy() -%}
    {{- return('delete+insert') -}}
{%- endmacro %}

{% macro spark__kith_new_rows_strategy() -%}
    {{- return('append') -}}
{%- endmacro %}
