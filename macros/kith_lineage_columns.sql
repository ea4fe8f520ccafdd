{#- The lineage columns every staging model carries, from dlt's load id and the loader's file and
    line: one definition, so every staging model exposes them identically. -#}
{% macro kith_lineage_columns() -%}
    _dlt_load_id as dlt_load_id,
        {{ kith_utc_timestamp(kith_epoch_to_timestamp('cast(_dlt_load_id as double)')) }} as dlt_loaded_at,
        _kith_file as kith_file,
        _kith_line as kith_line
{%- endmacro %}
