{#- The lineage columns every staging model carries, from dlt's load id and the loader's file and
    line: one definition, so every staging model exposes them identically. -#}
{% macro kith_lineage_columns() -%}
    _dlt_load_id as dlt_load_id,
        to_timestamp(cast(_dlt_load_id as double)) at time zone 'UTC' as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line
{%- endmacro %}
