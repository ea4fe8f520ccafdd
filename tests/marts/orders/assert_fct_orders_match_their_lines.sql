-- The line measures of fct_orders are the sums of its rows in fct_order_lines.
with

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(list_amount) as list_amount,
        sum(markdown_amount) as markdown_amount,
        sum(returned_quantity) as returned_quantity,
        sum(returned_amount) as returned_amount
    from {{ ref('fct_order_lines') }}
    group by 1

),

mismatches as (

    select
        fct_orders.order_id,
        fct_orders.line_count,
        line_totals.line_count as lines_line_count,
        fct_orders.list_amount,
        line_totals.list_amount as lines_list_amount
    from {{ ref('fct_orders') }} as fct_orders
    left join line_totals
        on fct_orders.order_id = line_totals.order_id
    where
        fct_orders.line_count <> coalesce(line_totals.line_count, 0)
        or fct_orders.item_count <> coalesce(line_totals.item_count, 0)
        or fct_orders.list_amount <> coalesce(line_totals.list_amount, 0)
        or fct_orders.markdown_amount <> coalesce(line_totals.markdown_amount, 0)
        or fct_orders.returned_quantity <> coalesce(line_totals.returned_quantity, 0)
        or fct_orders.returned_amount <> coalesce(line_totals.returned_amount, 0)

)

select * from mismatches
