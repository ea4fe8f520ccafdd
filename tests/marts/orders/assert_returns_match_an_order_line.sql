{{ config(group='data_platform', severity='warn') }}
-- Warns about returns that no order line takes: the order, transaction or its line with that SKU
-- is unknown (rejected at ingestion, or not delivered yet). They are missing from the returned
-- columns of fct_orders and fct_order_lines until it arrives.
select
    erp_returns.return_id,
    erp_returns.reference_type,
    erp_returns.reference_id,
    erp_returns.sku
from {{ ref('stg_erp__returns') }} as erp_returns
left join {{ ref('fct_order_lines') }} as order_lines
    on
        erp_returns.reference_id = order_lines.order_id
        and erp_returns.sku = order_lines.sku
where order_lines.order_line_id is null
