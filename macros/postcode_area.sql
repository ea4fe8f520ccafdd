{#- UK postcode area: the leading letters of a (normalised) postcode, `SW10 9UZ` -> `SW`; null when
    the value does not start with letters. Stores and customers in one area count as near. -#}
{% macro postcode_area(column) -%}
    nullif(regexp_extract(upper({{ column }}), '^([A-Z]{1,2})[0-9]', 1), '')
{%- endmacro %}
