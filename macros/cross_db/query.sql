{#- Query clauses that differ between engines. -#}

{#- A select filtered by a window condition evaluated after grouping (DuckDB's QUALIFY):

        {% call kith_qualify("row_number() over (partition by a order by count(*) desc) = 1") %}
        select a, b from t group by 1, 2
        {% endcall %}

    DuckDB appends `qualify <condition>`. Spark has no QUALIFY: the condition becomes one more
    column of the same select (inserted before its first top-level `from`, so it sees the same
    columns, groups and aggregates), and an outer select keeps the rows where it holds and drops
    the column. The select must not be `select distinct`. -#}
{% macro kith_qualify(condition) -%}
    {{- return(adapter.dispatch('kith_qualify', 'kith')(condition, caller())) -}}
{%- endmacro %}

{% macro default__kith_qualify(condition, query) -%}
    {{ query | trim }}
    qualify {{ condition }}
{%- endmacro %}

{% macro spark__kith_qualify(condition, query) -%}
    {%- set query = query | trim -%}
    {%- set position = namespace(at=none) -%}
    {%- for match in modules.re.finditer('\\bfrom\\b', query, modules.re.IGNORECASE) -%}
        {%- set before = query[:match.start()] -%}
        {%- if position.at is none and before.count('(') == before.count(')') -%}
            {%- set position.at = match.start() -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if position.at is none or modules.re.match('(?is)select\\s+distinct\\b', query) -%}
        {{ exceptions.raise_compiler_error("kith_qualify: the query must be a select with a top-level from and without distinct") }}
    {%- endif -%}
    select * except (_kith_qualify) from (
        {{ query[:position.at] | trim }},
        ({{ condition }}) as _kith_qualify
    {{ query[position.at:] }}
    ) as qualified
    where _kith_qualify
{%- endmacro %}


{#- Between the branches of a union that may list their columns in different orders. DuckDB
    matches the columns by name; on Spark (no UNION BY NAME in SQL) the branches are matched by
    position, so the models that use it list the same columns in the same order in every branch
    (the marts comparison with DuckDB in tests/spark checks it). -#}
{% macro kith_union_all_by_name() -%}
    {{- return(adapter.dispatch('kith_union_all_by_name', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_union_all_by_name() -%}union all by name{%- endmacro %}

{% macro spark__kith_union_all_by_name() -%}union all{%- endmacro %}


{#- Text aggregate: the values of `expression` joined by `separator` (a SQL literal), in the order
    of `order_by`. -#}
{% macro kith_string_agg(expression, separator, order_by) -%}
    {{- return(adapter.dispatch('kith_string_agg', 'kith')(expression, separator, order_by)) -}}
{%- endmacro %}

{% macro default__kith_string_agg(expression, separator, order_by) -%}
    string_agg(
            {{ expression }}, {{ separator }}
            order by {{ order_by }}
        )
{%- endmacro %}

{% macro spark__kith_string_agg(expression, separator, order_by) -%}
    listagg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}


{#- Aggregate: the value of `expression` on the first row by `order_by` among the rows where
    `condition` holds. DuckDB `first(x order by ...) filter (where ...)`; Spark
    `min_by(x, struct(...)) filter (where ...)` (ascending keys, as written in `order_by`: plain
    column names, no direction). -#}
{% macro kith_first_value(expression, order_by, condition) -%}
    {{- return(adapter.dispatch('kith_first_value', 'kith')(expression, order_by, condition)) -}}
{%- endmacro %}

{% macro default__kith_first_value(expression, order_by, condition) -%}
    first({{ expression }} order by {{ order_by }}) filter (where {{ condition }})
{%- endmacro %}

{% macro spark__kith_first_value(expression, order_by, condition) -%}
    min_by({{ expression }}, struct({{ order_by }})) filter (where {{ condition }})
{%- endmacro %}
