{#- Structs, lists and ordered aggregates. DuckDB has struct and list literals and ordered
    aggregates (`list(x order by k)`, `first(x order by k)`, `arg_min(x, (a, b))`); Spark builds the
    same values with named_struct, collect_list + array_sort, and min_by over a struct key. -#}

{#- An `order by` list ("a desc, b asc, c") as [(expression, is_descending)], split at top-level
    commas. -#}
{% macro kith_order_keys(order_by) -%}
    {%- set keys = [] -%}
    {%- set depth = namespace(level=0, current='') -%}
    {%- for character in (order_by ~ ',') -%}
        {%- if character == '(' -%}{%- set depth.level = depth.level + 1 -%}{%- endif -%}
        {%- if character == ')' -%}{%- set depth.level = depth.level - 1 -%}{%- endif -%}
        {%- if character == ',' and depth.level == 0 -%}
            {%- set key = depth.current | trim -%}
            {%- set lowered = key | lower -%}
            {%- if lowered.endswith(' desc') -%}
                {%- do keys.append((key[:-5] | trim, true)) -%}
            {%- elif lowered.endswith(' asc') -%}
                {%- do keys.append((key[:-4] | trim, false)) -%}
            {%- else -%}
                {%- do keys.append((key, false)) -%}
            {%- endif -%}
            {%- set depth.current = '' -%}
        {%- else -%}
            {%- set depth.current = depth.current ~ character -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(keys) -}}
{%- endmacro %}


{#- A struct value from [(field name, SQL expression)]. DuckDB `{'a': x, ...}`; Spark
    `named_struct('a', x, ...)`, where a bare `null` field is a null string (DuckDB types it from
    the other branches of a union; Spark needs a type). -#}
{% macro kith_struct(fields) -%}
    {{- return(adapter.dispatch('kith_struct', 'kith')(fields)) -}}
{%- endmacro %}

{% macro default__kith_struct(fields) -%}
    {
    {%- for name, expression in fields %}
            '{{ name }}': {{ expression }}{{ ',' if not loop.last }}
    {%- endfor %}
        }
{%- endmacro %}

{% macro spark__kith_struct(fields) -%}
    named_struct(
    {%- for name, expression in fields %}
        '{{ name }}', {{ 'cast(null as string)' if expression | trim | lower == 'null' else expression }}{{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}


{#- One field of a struct. DuckDB `struct_extract(s, 'f')`; Spark `s.f`. -#}
{% macro kith_struct_field(expression, field) -%}
    {{- return(adapter.dispatch('kith_struct_field', 'kith')(expression, field)) -}}
{%- endmacro %}

{% macro default__kith_struct_field(expression, field) -%}
    struct_extract({{ expression }}, '{{ field }}')
{%- endmacro %}

{% macro spark__kith_struct_field(expression, field) -%}
    {{ expression }}.{{ field }}
{%- endmacro %}


{#- An empty list, of `element_type` when given. DuckDB `[]` or `cast([] as t[])`; Spark
    `cast(array() as array<t>)` (string elements unless told). -#}
{% macro kith_empty_list(element_type=none) -%}
    {{- return(adapter.dispatch('kith_empty_list', 'kith')(element_type)) -}}
{%- endmacro %}

{% macro default__kith_empty_list(element_type=none) -%}
    {%- if element_type is none -%}[]{%- else -%}cast([] as {{ element_type }}[]){%- endif -%}
{%- endmacro %}

{% macro spark__kith_empty_list(element_type=none) -%}
    cast(array() as array<{{ element_type or 'string' }}>)
{%- endmacro %}


{#- Aggregate: the values of `expression` as a list in the order of `order_by` (an order by list,
    `desc`/`asc` per key), of the rows where `condition` holds when given. DuckDB
    `list(x order by k) filter (where c)`; Spark sorts the collected (keys, value) structs with a
    comparator (nulls compare equal) and keeps the values. An empty selection is null on DuckDB,
    an empty list on Spark: coalesce it with kith_empty_list(). -#}
{% macro kith_list_agg(expression, order_by, condition=none) -%}
    {{- return(adapter.dispatch('kith_list_agg', 'kith')(expression, order_by, condition)) -}}
{%- endmacro %}

{% macro default__kith_list_agg(expression, order_by, condition=none) -%}
    list({{ expression }} order by {{ order_by }})
    {%- if condition is not none %} filter (
                    where {{ condition }}
                ){%- endif -%}
{%- endmacro %}

{% macro spark__kith_list_agg(expression, order_by, condition=none) -%}
    {%- set keys = kith_order_keys(order_by) -%}
    {%- set comparison = namespace(sql='0') -%}
    {%- for key, descending in keys | reverse -%}
        {%- set i = keys | length - loop.index -%}
        {%- set first, second = ('r', 'l') if descending else ('l', 'r') -%}
        {%- set comparison.sql = 'case when ' ~ first ~ '.k' ~ i ~ ' < ' ~ second ~ '.k' ~ i ~ ' then -1 when '
            ~ first ~ '.k' ~ i ~ ' > ' ~ second ~ '.k' ~ i ~ ' then 1 else ' ~ comparison.sql ~ ' end' -%}
    {%- endfor -%}
    transform(
        array_sort(
            collect_list(named_struct(
                {%- for key, descending in keys %}'k{{ loop.index0 }}', {{ key }}, {% endfor -%}
                'v', {{ expression }}
            )){% if condition is not none %} filter (where {{ condition }}){% endif %},
            (l, r) -> {{ comparison.sql }}
        ),
        kith_element -> kith_element.v
    )
{%- endmacro %}


{#- Aggregate: `expression` on the first row in the order of `order_by` (`desc` keys must be
    numbers). DuckDB `first(x order by k)`; Spark `min_by(x, struct(k))`, descending keys negated. -#}
{% macro kith_first_by(expression, order_by) -%}
    {{- return(adapter.dispatch('kith_first_by', 'kith')(expression, order_by)) -}}
{%- endmacro %}

{% macro default__kith_first_by(expression, order_by) -%}
    first({{ expression }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__kith_first_by(expression, order_by) -%}
    min_by({{ expression }}, struct(
        {%- for key, descending in kith_order_keys(order_by) -%}
            {{ '-(' ~ key ~ ')' if descending else key }}{{ ', ' if not loop.last }}
        {%- endfor -%}
    ))
{%- endmacro %}


{#- Aggregate: `expression` on the row with the smallest `keys` (a list of SQL expressions,
    compared in order). DuckDB `arg_min(x, (a, b))`; Spark `min_by(x, struct(a, b))`. -#}
{% macro kith_arg_min(expression, keys) -%}
    {{- return(adapter.dispatch('kith_arg_min', 'kith')(expression, keys)) -}}
{%- endmacro %}

{% macro default__kith_arg_min(expression, keys) -%}
    arg_min({{ expression }}, ({{ keys | join(', ') }}))
{%- endmacro %}

{% macro spark__kith_arg_min(expression, keys) -%}
    min_by({{ expression }}, struct({{ keys | join(', ') }}))
{%- endmacro %}


{#- Aggregate: the distinct values of `expression`, sorted, joined by `separator` (a SQL literal).
    DuckDB `string_agg(distinct x, s order by x)`; Spark `array_join(array_sort(collect_set(x)), s)`. -#}
{% macro kith_string_agg_distinct(expression, separator) -%}
    {{- return(adapter.dispatch('kith_string_agg_distinct', 'kith')(expression, separator)) -}}
{%- endmacro %}

{% macro default__kith_string_agg_distinct(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{% macro spark__kith_string_agg_distinct(expression, separator) -%}
    array_join(array_sort(collect_set({{ expression }})), {{ separator }})
{%- endmacro %}


{#- Every column of a relation but `columns` (a list of names). DuckDB `* exclude (...)`; Spark
    `* except (...)`. -#}
{% macro kith_star_except(columns) -%}
    {{- return(adapter.dispatch('kith_star_except', 'kith')(columns)) -}}
{%- endmacro %}

{% macro default__kith_star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__kith_star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}


{#- List functions. DuckDB `len`, `list_contains`, `list_distinct`; Spark `size`, `array_contains`,
    `array_distinct`. -#}
{% macro kith_list_length(expression) -%}
    {{- return(adapter.dispatch('kith_list_length', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_list_length(expression) -%}
    len({{ expression }})
{%- endmacro %}

{% macro spark__kith_list_length(expression) -%}
    size({{ expression }})
{%- endmacro %}

{% macro kith_list_contains(expression, value) -%}
    {{- return(adapter.dispatch('kith_list_contains', 'kith')(expression, value)) -}}
{%- endmacro %}

{% macro default__kith_list_contains(expression, value) -%}
    list_contains({{ expression }}, {{ value }})
{%- endmacro %}

{% macro spark__kith_list_contains(expression, value) -%}
    array_contains({{ expression }}, {{ value }})
{%- endmacro %}

{% macro kith_list_distinct(expression) -%}
    {{- return(adapter.dispatch('kith_list_distinct', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_list_distinct(expression) -%}
    list_distinct({{ expression }})
{%- endmacro %}

{% macro spark__kith_list_distinct(expression) -%}
    array_distinct({{ expression }})
{%- endmacro %}
