{#- Whitespace helpers shared by the identifier macros. DuckDB's trim() only strips ASCII spaces:
    these also strip tabs, newlines and Unicode spaces (no-break space and friends). -#}

{% macro trim_whitespace(column) -%}
    {{ kith_regexp_replace(column, "'^[\\s\\p{Z}]+|[\\s\\p{Z}]+$'", "''") }}
{%- endmacro %}

{% macro squish_whitespace(column) -%}
    nullif(trim({{ kith_regexp_replace(column, "'[\\s\\p{Z}]+'", "' '") }}), '')
{%- endmacro %}
