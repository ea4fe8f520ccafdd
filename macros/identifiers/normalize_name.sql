{#- Personal name as typed -> match key: whitespace trimmed and collapsed, accents stripped
    (`José` -> `Jose`), title case with a capital after a space, hyphen or apostrophe
    (`o'NEIL-smith` -> `O'Neil-Smith`). Null when empty. It is a key for matching, not a display
    name: `McDonald` becomes `Mcdonald`, `van der Berg` becomes `Van Der Berg`.
    (DuckDB has no initcap(): the list comprehension capitalises character by character; it is
    written with one loop variable so that sqlfluff's duckdb dialect parses it.) -#}
{% macro normalize_name(column) -%}
    {%- set lowered -%}strip_accents(lower({{ squish_whitespace(column) }})){%- endset -%}
    array_to_string(
        [
            case
                when character_index = 1 or substr({{ lowered }}, character_index - 1, 1) in (' ', '-', '''')
                    then upper(substr({{ lowered }}, character_index, 1))
                else substr({{ lowered }}, character_index, 1)
            end
            for character_index in range(1, length({{ lowered }}) + 1)
        ],
        ''
    )
{%- endmacro %}
