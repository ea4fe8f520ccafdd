{#- Personal name as typed -> match key: whitespace trimmed and collapsed, accents stripped
    (`José` -> `Jose`), title case with a capital after a space, hyphen or apostrophe
    (`o'NEIL-smith` -> `O'Neil-Smith`). Null when empty. It is a key for matching, not a display
    name: `McDonald` becomes `Mcdonald`, `van der Berg` becomes `Van Der Berg`. -#}
{% macro normalize_name(column) -%}
    {%- set lowered -%}{{ kith_strip_accents('lower(' ~ squish_whitespace(column) ~ ')') }}{%- endset -%}
    {{ kith_capitalize_after(lowered, "' ', '-', " ~ kith_sql_string("'")) }}
{%- endmacro %}
