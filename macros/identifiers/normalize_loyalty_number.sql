{#- Loyalty card number as printed, scanned or typed -> whitespace removed, uppercase, null when
    empty, so that the member, the till, the ledger, consent and QR scans agree on one value. -#}
{% macro normalize_loyalty_number(column) -%}
    nullif(upper({{ kith_regexp_replace(column, "'[\\s\\p{Z}]+'", "''") }}), '')
{%- endmacro %}
