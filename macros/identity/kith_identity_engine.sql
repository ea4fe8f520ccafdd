{#- The connected-components engine of identity resolution: var kith__identity_engine when set
    ('scipy' or 'sql'), else the target's default: scipy on DuckDB (in memory, fastest), the SQL
    large-star/small-star loop elsewhere (Spark: distributed; scipy would pull the graph to the
    driver). _identity__models.yml repeats this rule for the scipy model's `enabled` (YAML cannot
    call macros). -#}
{% macro kith_identity_engine() -%}
    {%- set engine = var('kith__identity_engine', none) or ('scipy' if target.type == 'duckdb' else 'sql') -%}
    {%- if engine not in ('scipy', 'sql') -%}
        {{ exceptions.raise_compiler_error(
            "var kith__identity_engine must be 'scipy' or 'sql' (or null for the target's default), got '" ~ engine ~ "'"
        ) }}
    {%- endif -%}
    {{- return(engine) -}}
{%- endmacro %}
