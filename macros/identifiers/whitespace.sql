{#- Whitespace helpers shared by the identifier macros. DuckDB's trim() only strips ASCII spaces:
    these also strip tabs, newlines and Unicode spaces (no-break space and friends). -#}

{% macro trim_whitespace(column) -%}
    regexp_replace({{ column }}, '^[\s\p{Z}]+|[\s\p{Z}]+$', '', 'g')
{%- endmacro %}

{% macro squish_whitespace(column) -%}
    nullif(trim(regexp_replace({{ column }}, '[\s\p{Z}]+', ' ', 'g')), '')
{%- endmacro %}
