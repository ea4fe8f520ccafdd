{#- True for the first copy received of a resent record (earliest dlt load, then file, then line):
    append entities keep every delivery in raw, and staging keeps this one. -#}
{% macro kith_is_first_copy_received(partition_by) -%}
    row_number() over (
            partition by {{ partition_by }}
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1
{%- endmacro %}


{#- The clause a staging model ends with to keep only the first copy received of each record:
    `qualify` on DuckDB. Spark has no QUALIFY: its pipe syntax numbers the copies after the
    projection, on the lineage columns as kith_lineage_columns() names them, and keeps the first. -#}
{% macro kith_keep_first_copy_received(partition_by) -%}
    {{- return(adapter.dispatch('kith_keep_first_copy_received', 'kith')(partition_by)) -}}
{%- endmacro %}

{% macro default__kith_keep_first_copy_received(partition_by) -%}
    qualify {{ kith_is_first_copy_received(partition_by) }}
{%- endmacro %}

{% macro spark__kith_keep_first_copy_received(partition_by) -%}
    |> extend row_number() over (
            partition by {{ partition_by }}
            order by cast(dlt_load_id as double), kith_file, kith_line
        ) as _kith_copy_number
    |> where _kith_copy_number = 1
    |> drop _kith_copy_number
{%- endmacro %}
