{#-
    Fails once for every combination of `combination_of_columns` that appears on more than one row.
    Nulls count as equal values (group by semantics), as in dbt_utils.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}

{%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns: combination_of_columns must be a non-empty list of column names"
    ) }}
{%- endif -%}

{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set column_list = columns | join(', ') %}

select
    {{ column_list }},
    count(*) as n_rows
from {{ model }}
group by {{ column_list }}
having count(*) > 1

{% endtest %}
