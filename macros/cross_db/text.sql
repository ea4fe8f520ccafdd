{#- Text functions that differ between engines. -#}

{#- Accents and other combining marks removed (`José` -> `Jose`). -#}
{% macro kith_strip_accents(expression) -%}
    {{- return(adapter.dispatch('kith_strip_accents', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_strip_accents(expression) -%}
    strip_accents({{ expression }})
{%- endmacro %}

{#- Spark has no Unicode normalisation function: the accented Latin letters of the Latin-1
    Supplement and Latin Extended-A blocks are mapped to their base letter (what DuckDB's
    strip_accents does for them); letters outside those blocks keep their accents. -#}
{% macro spark__kith_strip_accents(expression) -%}
    {%- set accented = 'àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżžÀÁÂÃÄÅĀĂĄÇĆĈĊČĎĐÈÉÊËĒĔĖĘĚĜĞĠĢĤĦÌÍÎÏĨĪĬĮİĴĶĹĻĽĿŁÑŃŅŇÒÓÔÕÖØŌŎŐŔŖŘŚŜŞŠŢŤŦÙÚÛÜŨŪŬŮŰŲŴÝŸŶŹŻŽ' -%}
    {%- set plain = 'aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnoooooooooorrrsssstttuuuuuuuuuuwyyyzzzAAAAAAAAACCCCCDDEEEEEEEEEGGGGHHIIIIIIIIIJKLLLLLNNNNOOOOOOOOORRRSSSSTTTUUUUUUUUUUWYYYZZZ' -%}
    translate({{ expression }}, '{{ accented }}', '{{ plain }}')
{%- endmacro %}


{#- Title case of an (already lowercased) expression: a capital at the start and after each
    character of `after` (a SQL list of one-character literals, e.g. ' ', '-'). -#}
{% macro kith_capitalize_after(expression, after) -%}
    {{- return(adapter.dispatch('kith_capitalize_after', 'kith')(expression, after)) -}}
{%- endmacro %}

{#- DuckDB has no initcap(): the list comprehension capitalises character by character; it is
    written with one loop variable so that sqlfluff's duckdb dialect parses it. -#}
{% macro default__kith_capitalize_after(expression, after) -%}
    array_to_string(
        [
            case
                when character_index = 1 or substr({{ expression }}, character_index - 1, 1) in ({{ after }})
                    then upper(substr({{ expression }}, character_index, 1))
                else substr({{ expression }}, character_index, 1)
            end
            for character_index in range(1, length({{ expression }}) + 1)
        ],
        ''
    )
{%- endmacro %}

{% macro spark__kith_capitalize_after(expression, after) -%}
    array_join(
        transform(
            sequence(1, length({{ expression }})),
            character_index -> case
                when character_index = 1 or substr({{ expression }}, character_index - 1, 1) in ({{ after }})
                    then upper(substr({{ expression }}, character_index, 1))
                else substr({{ expression }}, character_index, 1)
            end
        ),
        ''
    )
{%- endmacro %}


{#- A date (or timestamp) as text, `format` in strftime codes (%Y %m %d %H %M %S). -#}
{% macro kith_format_date(expression, format) -%}
    {{- return(adapter.dispatch('kith_format_date', 'kith')(expression, format)) -}}
{%- endmacro %}

{% macro default__kith_format_date(expression, format) -%}
    strftime({{ expression }}, '{{ format }}')
{%- endmacro %}

{% macro spark__kith_format_date(expression, format) -%}
    {%- set java = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
        | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') -%}
    {%- if '%' in java -%}
        {{ exceptions.raise_compiler_error("kith_format_date: unsupported strftime code in '" ~ format ~ "'") }}
    {%- endif -%}
    date_format({{ expression }}, '{{ java }}')
{%- endmacro %}


{#- The text type of casts. -#}
{% macro kith_type_string() -%}
    {{- return(adapter.dispatch('kith_type_string', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_type_string() -%}varchar{%- endmacro %}

{% macro spark__kith_type_string() -%}string{%- endmacro %}
