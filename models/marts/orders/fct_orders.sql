-- One row per order: shop orders and till transactions in one grain. Amounts that the header
-- records (discount, paid, shipping, total) come from the header; amounts that only lines know
-- (list price, markdown, cost, returns) are the sums of the order's rows in fct_order_lines, so
-- the two marts always agree.
with

int_orders_unioned as (

    select * from {{ ref('int_orders_unioned') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(list_amount) as list_amount,
        sum(markdown_amount) as markdown_amount,
        sum(unit_price * quantity) as lines_subtotal_amount,
        -- unknown when a line's product is not in the catalogue
        case when count(*) = count(cost_amount) then sum(cost_amount) end as cost_amount,
        sum(returned_quantity) as returned_quantity,
        sum(returned_amount) as returned_amount,
        {{ kith_first_value('return_reason', 'first_returned_at, order_line_id', 'return_reason is not null') }}
            as return_reason,
        {{ kith_first_value('refund_method', 'first_returned_at, order_line_id', 'refund_method is not null') }}
            as refund_method,
        min(first_returned_at) as first_returned_at
    from fct_order_lines
    group by 1

),

orders_joined as (

    select
        int_orders_unioned.*,
        dim_customer_identifiers.customer_id,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_count, 0) as item_count,
        coalesce(line_totals.list_amount, 0) as list_amount,
        coalesce(line_totals.markdown_amount, 0) as markdown_amount,
        line_totals.lines_subtotal_amount,
        line_totals.cost_amount,
        coalesce(line_totals.returned_quantity, 0) as returned_quantity,
        coalesce(line_totals.returned_amount, 0) as returned_amount,
        line_totals.return_reason,
        line_totals.refund_method,
        line_totals.first_returned_at
    from int_orders_unioned
    left join dim_customer_identifiers
        on
            int_orders_unioned.identifier_type = dim_customer_identifiers.identifier_type
            and int_orders_unioned.order_id = dim_customer_identifiers.identifier_value
    left join line_totals
        on int_orders_unioned.order_id = line_totals.order_id

),

orders_measured as (

    select
        -- ids
        order_id,
        customer_id,
        store_id,

        -- strings
        order_channel,
        status,
        payment_method,
        return_reason,
        refund_method,
        currency_code,

        -- numerics
        cast(line_count as integer) as line_count,
        cast(item_count as integer) as item_count,
        cast(list_amount as decimal(18, 2)) as list_amount,
        cast(markdown_amount as decimal(18, 2)) as markdown_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(subtotal_amount - discount_amount as decimal(18, 2)) as paid_amount,
        cast(shipping_amount as decimal(18, 2)) as shipping_amount,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(cost_amount as decimal(18, 2)) as cost_amount,
        cast(subtotal_amount - discount_amount - cost_amount as decimal(18, 2)) as margin_amount,
        cast(returned_quantity as integer) as returned_quantity,
        cast(returned_amount as decimal(18, 2)) as returned_amount,
        cast(
            case
                when status = 'cancelled' then 0
                else subtotal_amount - discount_amount - returned_amount
            end as decimal(18, 2)
        ) as net_amount,

        -- booleans
        status = 'cancelled' as is_cancelled,
        case when line_count > 0 then markdown_amount = 0 and discount_amount = 0 end as is_full_price,
        returned_quantity > 0 as is_returned,
        -- the lines at the price paid add up to the header: no line was lost at ingestion
        coalesce(lines_subtotal_amount = subtotal_amount, false) as has_complete_lines,

        -- dates
        cast(ordered_at as date) as order_date,

        -- timestamps
        ordered_at,
        first_returned_at

    from orders_joined

)

select * from orders_measured
