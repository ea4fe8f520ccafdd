{{ config(group='data_platform') }}
-- Every staging line of a known order is in fct_order_lines, with its order, product, quantity
-- and prices as staging has them now (an incremental run must not leave a stale or missing line);
-- and fct_order_lines holds nothing else.
with

staging_lines as (

    select
        shop_lines.order_line_id,
        shop_lines.order_id,
        shop_lines.sku,
        shop_lines.quantity,
        shop_lines.unit_list_price,
        shop_lines.unit_price,
        coalesce(shop_lines.discount_amount, 0) as discount_amount,
        shop_orders.order_status as status
    from {{ ref('stg_shop__order_lines') }} as shop_lines
    inner join {{ ref('stg_shop__orders') }} as shop_orders
        on shop_lines.order_id = shop_orders.order_id

    union all

    select
        pos_lines.transaction_line_id as order_line_id,
        pos_lines.transaction_id as order_id,
        pos_lines.sku,
        pos_lines.quantity,
        pos_lines.unit_list_price,
        pos_lines.unit_price,
        coalesce(pos_lines.discount_amount, 0) as discount_amount,
        'completed' as status
    from {{ ref('stg_pos__transaction_lines') }} as pos_lines
    inner join {{ ref('stg_pos__transactions') }} as pos_transactions
        on pos_lines.transaction_id = pos_transactions.transaction_id

),

fct_order_lines as (

    select
        order_line_id,
        order_id,
        sku,
        quantity,
        unit_list_price,
        unit_price,
        discount_amount,
        status
    from {{ ref('fct_order_lines') }}

),

only_in_staging as (

    select * from staging_lines
    except
    select * from fct_order_lines

),

only_in_fct as (

    select * from fct_order_lines
    except
    select * from staging_lines

)

select
    'missing or stale in fct_order_lines' as problem,
    *
from only_in_staging
union all
select
    'not in staging' as problem,
    *
from only_in_fct
