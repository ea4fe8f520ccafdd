{#- Regular expressions, per engine. Patterns are SQL string literals written in the syntax both
    engines share (RE2 in DuckDB, java.util.regex in Spark: classes, \s, \p{Z}, (?:...), anchors).
    The Spark profile sets spark.sql.parser.escapedStringLiterals, so a backslash in a literal
    reaches the regex engine as it is written, as in DuckDB. -#}

{#- Every match of `pattern` in `expression` replaced (the first only with all_matches=false: for
    patterns that can match once, such as anchored ones); `\1`..`\9` in the replacement are groups. -#}
{% macro kith_regexp_replace(expression, pattern, replacement, all_matches=true) -%}
    {{- return(adapter.dispatch('kith_regexp_replace', 'kith')(expression, pattern, replacement, all_matches)) -}}
{%- endmacro %}

{% macro default__kith_regexp_replace(expression, pattern, replacement, all_matches=true) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ replacement }}{% if all_matches %}, 'g'{% endif %})
{%- endmacro %}

{#- Spark always replaces every match (the same result for a pattern that can match once); groups
    are written $1 in Java's replacement syntax. -#}
{% macro spark__kith_regexp_replace(expression, pattern, replacement, all_matches=true) -%}
    regexp_replace({{ expression }}, {{ pattern }}, {{ modules.re.sub('\\\\([0-9])', '$\\1', replacement) }})
{%- endmacro %}


{#- True when `pattern` matches somewhere in `expression` (null for null); flags 'i' = ignore case. -#}
{% macro kith_regexp_matches(expression, pattern, flags=none) -%}
    {{- return(adapter.dispatch('kith_regexp_matches', 'kith')(expression, pattern, flags)) -}}
{%- endmacro %}

{% macro default__kith_regexp_matches(expression, pattern, flags=none) -%}
    regexp_matches({{ expression }}, {{ pattern }}{% if flags %}, '{{ flags }}'{% endif %})
{%- endmacro %}

{% macro spark__kith_regexp_matches(expression, pattern, flags=none) -%}
    {%- if flags and flags != 'i' -%}
        {{ exceptions.raise_compiler_error("kith_regexp_matches: flags '" ~ flags ~ "' are not supported on Spark (only 'i')") }}
    {%- endif -%}
    {%- if flags and pattern.startswith("'") -%}
        regexp_like({{ expression }}, '(?i){{ pattern[1:] }})
    {%- elif flags -%}
        regexp_like({{ expression }}, concat('(?i)', {{ pattern }}))
    {%- else -%}
        regexp_like({{ expression }}, {{ pattern }})
    {%- endif -%}
{%- endmacro %}
