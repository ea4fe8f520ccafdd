{#-
    Fails for every row where `expression` is false.
    Model level: `expression` is a whole boolean expression (`amount >= discount_amount`).
    Column level: `expression` is appended to the column (`>= 0` gives `amount >= 0`).
    Rows where the expression is null pass (as in dbt_utils): add not_null where that matters.
    Filter rows with dbt's `config: {where: ...}`.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not (
    {%- if column_name is none %}
    {{ expression }}
    {%- else %}
    {{ column_name }} {{ expression }}
    {%- endif %}
)

{% endtest %}
