{{ config(group='data_platform') }}
-- Every return of a product on a known order line is counted on that order's lines, once:
-- per order, the returned quantity and amount of fct_order_lines equal those of stg_erp__returns.
with

order_lines as (

    select
        order_id,
        sku,
        sum(returned_quantity) as returned_quantity,
        sum(returned_amount) as returned_amount
    from {{ ref('fct_order_lines') }}
    group by 1, 2

),

returns_matched as (

    select
        erp_returns.reference_id as order_id,
        erp_returns.sku,
        sum(erp_returns.quantity) as returned_quantity,
        sum(erp_returns.refund_amount) as returned_amount
    from {{ ref('stg_erp__returns') }} as erp_returns
    inner join order_lines
        on
            erp_returns.reference_id = order_lines.order_id
            and erp_returns.sku = order_lines.sku
    group by 1, 2

),

mismatches as (

    select
        order_lines.order_id,
        order_lines.sku,
        order_lines.returned_quantity,
        returns_matched.returned_quantity as expected_returned_quantity
    from order_lines
    left join returns_matched
        on
            order_lines.order_id = returns_matched.order_id
            and order_lines.sku = returns_matched.sku
    where
        order_lines.returned_quantity <> coalesce(returns_matched.returned_quantity, 0)
        or order_lines.returned_amount <> coalesce(returns_matched.returned_amount, 0)

)

select * from mismatches
