{#- The point in time every history-aggregating model uses: the `kith__as_of_date` var when set
    (YYYY-MM-DD, validated at compile time), else the day of the latest order or touchpoint (today
    when there is none yet). Models use only data on or before this day (`< as_of + 1 day` for
    timestamps). -#}
{% macro kith_as_of_date() %}
    {%- set as_of = var('kith__as_of_date') -%}
    {%- if as_of is not none and as_of | string | trim != '' -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', as_of | string | trim) -%}
            {{ exceptions.raise_compiler_error(
                "var kith__as_of_date must be a date written YYYY-MM-DD (or null for the latest data), got '"
                ~ as_of ~ "'"
            ) }}
        {%- endif -%}
        cast('{{ as_of | string | trim }}' as date)
    {%- else -%}
        (
            select coalesce(
                cast(greatest(
                    (select max(fct_orders.ordered_at) from {{ ref('fct_orders') }} as fct_orders),
                    (select max(fct_touchpoints.occurred_at) from {{ ref('fct_touchpoints') }} as fct_touchpoints)
                ) as date),
                -- a warehouse without any order or touchpoint yet: today
                current_date
            )
        )
    {%- endif -%}
{% endmacro %}
