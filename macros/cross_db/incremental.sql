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


{#- The materialisation of a mart that DuckDB builds incrementally by whole keys (delete+insert)
    and whose result equals a full refresh by design: `incremental` on DuckDB, `table` on Spark,
    where dbt-spark's Parquet tables cannot delete the keys being rebuilt (insert_overwrite needs
    partitions; merge needs Delta, Iceberg or Hudi): Spark rebuilds it in full at every run. -#}
{% macro kith_incremental_materialization() -%}
    {{- return(adapter.dispatch('kith_incremental_materialization', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_incremental_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro spark__kith_incremental_materialization() -%}
    {{- return('table') -}}
{%- endmacro %}
