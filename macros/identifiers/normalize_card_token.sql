{#- Payment card token (tokenised PAN) -> all whitespace removed, null when empty. Tokens are
    opaque and case-sensitive, so the case is kept. Masked card numbers are flagged by the junk
    rules, not rewritten. -#}
{% macro normalize_card_token(column) -%}
    nullif({{ kith_regexp_replace(column, "'[\\s\\p{Z}]+'", "''") }}, '')
{%- endmacro %}
