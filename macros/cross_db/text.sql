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


{#- A date (or timestamp) as text, `format` in strftime codes (%Y %m %d %H %M %S %f) and literal characters. -#}
{% macro kith_format_date(expression, format) -%}
    {{- return(adapter.dispatch('kith_format_date', 'kith')(expression, format)) -}}
{%- endmacro %}

{% macro default__kith_format_date(expression, format) -%}
    strftime({{ expression }}, '{{ format }}')
{%- endmacro %}

{% macro spark__kith_format_date(expression, format) -%}
    {%- set java = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
        | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') | replace('%f', 'SSSSSS') -%}
    {%- if '%' in java -%}
        {{ exceptions.raise_compiler_error("kith_format_date: unsupported strftime code in '" ~ format ~ "'") }}
    {%- endif -%}
    {%- if 'T' in java -%}
        {#- a literal T (ISO 8601) is quoted in Java's pattern, inside a double-quoted SQL literal -#}
        date_format({{ expression }}, "{{ java | replace('T', "'T'") }}")
    {%- else -%}
        date_format({{ expression }}, '{{ java }}')
    {%- endif -%}
{%- endmacro %}


{#- The text type of casts. -#}
{% macro kith_type_string() -%}
    {{- return(adapter.dispatch('kith_type_string', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_type_string() -%}varchar{%- endmacro %}

{% macro spark__kith_type_string() -%}string{%- endmacro %}


{#- A name bound once to a value inside an expression, for expressions that use a long
    subexpression many times (phone normalisation): kith_let_name(name, value) is what the body
    writes where it means the value, kith_let(name, value, body) the whole expression. DuckDB
    writes the value out at each use (its optimiser shares common subexpressions); Spark's analyser
    slows down on a tree that large, so there the value is computed once and bound to a lambda
    variable. -#}
{% macro kith_let_name(name, value) -%}
    {{- return(adapter.dispatch('kith_let_name', 'kith')(name, value)) -}}
{%- endmacro %}

{% macro default__kith_let_name(name, value) -%}
    {{- return(value) -}}
{%- endmacro %}

{% macro spark__kith_let_name(name, value) -%}
    {{- return(name) -}}
{%- endmacro %}

{% macro kith_let(name, value, body) -%}
    {{- return(adapter.dispatch('kith_let', 'kith')(name, value, body)) -}}
{%- endmacro %}

{% macro default__kith_let(name, value, body) -%}
    {{- return(body) -}}
{%- endmacro %}

{% macro spark__kith_let(name, value, body) -%}
    {{- return('element_at(transform(array(' ~ value ~ '), ' ~ name ~ ' -> ' ~ body ~ '), 1)') -}}
{%- endmacro %}
