{#- Email as typed -> comparable email: surrounding whitespace removed, lowercased, null when empty.
    Nothing else changes: provider alias folding is canonical_email(). -#}
{% macro normalize_email(column) -%}
    nullif(lower({{ trim_whitespace(column) }}), '')
{%- endmacro %}
