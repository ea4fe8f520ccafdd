{#- JSON held as text. DuckDB has a JSON type; on Spark JSON stays a string and is read with
    get_json_object / json_object_keys. -#}

{#- The type of a JSON column. DuckDB `json`; Spark `string`. -#}
{% macro kith_type_json() -%}
    {{- return(adapter.dispatch('kith_type_json', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_type_json() -%}json{%- endmacro %}

{% macro spark__kith_type_json() -%}string{%- endmacro %}


{#- The keys of a JSON object, as a list of strings in document order. DuckDB `json_keys`; Spark
    `json_object_keys`. -#}
{% macro kith_json_keys(expression) -%}
    {{- return(adapter.dispatch('kith_json_keys', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_json_keys(expression) -%}
    json_keys({{ expression }})
{%- endmacro %}

{% macro spark__kith_json_keys(expression) -%}
    json_object_keys({{ expression }})
{%- endmacro %}


{#- The JSON value at `path` (a SQL string literal of the object path, `$.a.`) followed by the key
    in the SQL expression `key`. DuckDB `json_extract(j, '$.a."' || key || '"')` (the key quoted);
    Spark `get_json_object(j, '$.a.' || key)` (keys of letters, digits and underscores). -#}
{% macro kith_json_value(expression, path, key) -%}
    {{- return(adapter.dispatch('kith_json_value', 'kith')(expression, path, key)) -}}
{%- endmacro %}

{% macro default__kith_json_value(expression, path, key) -%}
    json_extract({{ expression }}, '{{ path }}"' || {{ key }} || '"')
{%- endmacro %}

{% macro spark__kith_json_value(expression, path, key) -%}
    get_json_object({{ expression }}, '{{ path }}' || {{ key }})
{%- endmacro %}


{#- Select-list items that unnest a list into one row per element with its 0-based position.
    DuckDB `unnest(l) as value, unnest(range(0, len(l))) as position`; Spark
    `posexplode(l) as (position, value)`. -#}
{% macro kith_unnest_with_position(expression, value_name, position_name) -%}
    {{- return(adapter.dispatch('kith_unnest_with_position', 'kith')(expression, value_name, position_name)) -}}
{%- endmacro %}

{% macro default__kith_unnest_with_position(expression, value_name, position_name) -%}
    unnest({{ expression }}) as {{ value_name }},
        unnest(range(0, len({{ expression }}))) as {{ position_name }}
{%- endmacro %}

{% macro spark__kith_unnest_with_position(expression, value_name, position_name) -%}
    posexplode({{ expression }}) as ({{ position_name }}, {{ value_name }})
{%- endmacro %}
