{#- Creates SQL macros in the warehouse (schema `functions`) that normalise a typed identifier
    exactly as staging does, so a lookup (`kith profile`, `kith forget`) finds what the models
    stored without a second implementation of the rules. Run by dbt's on-run-start hook. -#}
{% macro kith_create_lookup_functions() %}
    {%- if target.type == 'duckdb' -%}
    create schema if not exists functions;
    create or replace macro functions.normalize_email(value) as {{ normalize_email('value') }};
    create or replace macro functions.canonical_email(value) as {{ canonical_email('value') }};
    create or replace macro functions.normalize_phone_e164(value) as {{ normalize_phone_e164('value') }};
    create or replace macro functions.normalize_loyalty_number(value) as {{ normalize_loyalty_number('value') }};
    {%- endif -%}
{% endmacro %}
