{#-
    Fails (one row) when `model` and `compare_model` have different row counts.
    dbt's `config: {where: ...}` filters `model` only.
-#}
{% test equal_rowcount(model, compare_model) %}

with model_rows as (

    select count(*) as n_rows
    from {{ model }}

),

compare_model_rows as (

    select count(*) as n_rows
    from {{ compare_model }}

)

select
    model_rows.n_rows as model_n_rows,
    compare_model_rows.n_rows as compare_model_n_rows,
    model_rows.n_rows - compare_model_rows.n_rows as difference
from model_rows
cross join compare_model_rows
where model_rows.n_rows <> compare_model_rows.n_rows

{% endtest %}
