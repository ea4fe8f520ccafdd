{#-
    Fails for every row whose value lies outside [min_value, max_value]
    (or (min_value, max_value) when inclusive is false). Either bound may be omitted, not both.
    Bounds are SQL expressions: numbers as they are, dates as quoted literals ("'2020-01-01'")
    or expressions ("current_date"). Null values pass: pair with not_null where they must not occur.
    Filter rows with dbt's `config: {where: ...}`.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range on column " ~ column_name ~ ": give min_value, max_value or both"
    ) }}
{%- endif -%}
{%- set operator_suffix = '=' if inclusive else '' %}

select *
from {{ model }}
where
    1 = 2
    {%- if min_value is not none %}
    or not ({{ column_name }} >{{ operator_suffix }} {{ min_value }})
    {%- endif %}
    {%- if max_value is not none %}
    or not ({{ column_name }} <{{ operator_suffix }} {{ max_value }})
    {%- endif %}

{% endtest %}
