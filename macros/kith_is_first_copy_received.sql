{#- True for the first copy received of a resent record (earliest dlt load, then file, then line):
    append entities keep every delivery in raw, and staging keeps this one. -#}
{% macro kith_is_first_copy_received(partition_by) -%}
    row_number() over (
            partition by {{ partition_by }}
            order by cast(_dlt_load_id as double), _kith_file, _kith_line
        ) = 1
{%- endmacro %}
