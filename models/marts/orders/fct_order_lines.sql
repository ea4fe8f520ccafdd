{{
    config(
        materialized=kith_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail',
    )
}}
{#-
    One row per order line, shop and till in one grain. Incremental by whole orders (delete+insert
    on order_id, so a rebuilt order replaces all its lines). An order is rebuilt when
      - it was placed in the last `kith__lookback_days` days before the newest order already built,
      - its header, a line or a return of it was loaded after the newest load already built
        (late deliveries, status changes, returns weeks later: caught whatever their age),
      - the product attributes or the customer id stored on its lines no longer match the
        catalogue or the id map (both change without touching the order).
    Everything else about a line is a function of those inputs, so the result equals a full refresh.
-#}
{%- set lookback_days = var('kith__lookback_days') | int %}

with

int_orders_unioned as (

    select * from {{ ref('int_orders_unioned') }}

),

stg_shop__order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

stg_pos__transaction_lines as (

    select * from {{ ref('stg_pos__transaction_lines') }}

),

stg_erp__returns as (

    select * from {{ ref('stg_erp__returns') }}

),

stg_erp__products as (

    select * from {{ ref('stg_erp__products') }}

),

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

lines_unioned as (

    select
        order_line_id,
        order_id,
        sku,
        quantity,
        unit_list_price,
        unit_price,
        coalesce(discount_amount, 0) as discount_amount,
        dlt_loaded_at
    from stg_shop__order_lines

    union all

    select
        transaction_line_id as order_line_id,
        transaction_id as order_id,
        sku,
        quantity,
        unit_list_price,
        unit_price,
        -- the till leaves the line discount empty when there is none
        coalesce(discount_amount, 0) as discount_amount,
        dlt_loaded_at
    from stg_pos__transaction_lines

),

-- every return of one product on one order, summed; reason and refund method of the first
returns_per_order_sku as (

    select
        case reference_type
            when 'order' then 'online'
            when 'pos_transaction' then 'store'
        end as order_channel,
        reference_id as order_id,
        sku,
        sum(quantity) as returned_quantity,
        sum(refund_amount) as returned_amount,
        {{ kith_first_value('return_reason', 'returned_at, return_id', 'return_reason is not null') }}
            as return_reason,
        {{ kith_first_value('refund_method', 'returned_at, return_id', 'refund_method is not null') }}
            as refund_method,
        min(returned_at) as first_returned_at,
        max(dlt_loaded_at) as dlt_loaded_at
    from stg_erp__returns
    group by 1, 2, 3

),

{% if is_incremental() %}

existing_lines as (

    select * from {{ this }}

),

watermark as (

    select
        coalesce(max(ordered_at) - to_days({{ lookback_days }}), cast('-infinity' as timestamp)) as window_start,
        coalesce(max(dlt_loaded_at), cast('-infinity' as timestamp)) as loaded_until
    from existing_lines

),

orders_changed as (

    select int_orders_unioned.order_id
    from int_orders_unioned
    cross join watermark
    where
        int_orders_unioned.ordered_at >= watermark.window_start
        or int_orders_unioned.dlt_loaded_at > watermark.loaded_until

    union

    select lines_unioned.order_id
    from lines_unioned
    cross join watermark
    where lines_unioned.dlt_loaded_at > watermark.loaded_until

    union

    select returns_per_order_sku.order_id
    from returns_per_order_sku
    cross join watermark
    where returns_per_order_sku.dlt_loaded_at > watermark.loaded_until

    union

    -- the catalogue changed under a line already built
    select existing_lines.order_id
    from existing_lines
    left join stg_erp__products
        on existing_lines.sku = stg_erp__products.sku
    where
        existing_lines.brand is distinct from stg_erp__products.brand
        or existing_lines.category is distinct from stg_erp__products.category
        or existing_lines.unit_cost is distinct from stg_erp__products.unit_cost

    union

    -- the id map moved the order to another customer (a merge, a split, a late link)
    select existing_lines.order_id
    from existing_lines
    left join dim_customer_identifiers
        on
            case existing_lines.order_channel when 'online' then 'order_id' else 'pos_transaction_id' end
            = dim_customer_identifiers.identifier_type
            and existing_lines.order_id = dim_customer_identifiers.identifier_value
    where existing_lines.customer_id is distinct from dim_customer_identifiers.customer_id

),

{% endif %}

orders_to_build as (

    select *
    from int_orders_unioned
    {% if is_incremental() %}
    where order_id in (select orders_changed.order_id from orders_changed)
    {% endif %}

),

orders_resolved as (

    select
        orders_to_build.*,
        dim_customer_identifiers.customer_id
    from orders_to_build
    left join dim_customer_identifiers
        on
            orders_to_build.identifier_type = dim_customer_identifiers.identifier_type
            and orders_to_build.order_id = dim_customer_identifiers.identifier_value

),

-- lines whose order header is missing (rejected at ingestion) have no time, status or customer:
-- they are left out until the header arrives, and the order is rebuilt then
lines_joined as (

    select
        lines_unioned.*,
        orders_resolved.order_channel,
        orders_resolved.customer_id,
        orders_resolved.store_id,
        orders_resolved.ordered_at,
        orders_resolved.status,
        orders_resolved.currency_code,
        orders_resolved.dlt_loaded_at as order_loaded_at,
        stg_erp__products.brand,
        stg_erp__products.category,
        stg_erp__products.unit_cost,
        -- an order holding one SKU on two lines gets its returns on the first of them
        row_number() over (
            partition by lines_unioned.order_id, lines_unioned.sku
            order by lines_unioned.order_line_id
        ) = 1 as takes_returns
    from lines_unioned
    inner join orders_resolved
        on lines_unioned.order_id = orders_resolved.order_id
    left join stg_erp__products
        on lines_unioned.sku = stg_erp__products.sku

),

lines_with_returns as (

    select
        lines_joined.*,
        returns_per_order_sku.returned_quantity,
        returns_per_order_sku.returned_amount,
        returns_per_order_sku.return_reason,
        returns_per_order_sku.refund_method,
        returns_per_order_sku.first_returned_at,
        returns_per_order_sku.dlt_loaded_at as returns_loaded_at
    from lines_joined
    left join returns_per_order_sku
        on
            lines_joined.takes_returns
            and lines_joined.order_channel = returns_per_order_sku.order_channel
            and lines_joined.order_id = returns_per_order_sku.order_id
            and lines_joined.sku = returns_per_order_sku.sku

),

lines_measured as (

    select
        -- ids
        order_line_id,
        order_id,
        customer_id,
        store_id,
        sku,

        -- strings
        order_channel,
        status,
        brand,
        category,
        return_reason,
        refund_method,
        currency_code,

        -- numerics
        cast(quantity as integer) as quantity,
        cast(unit_list_price as decimal(18, 2)) as unit_list_price,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        cast(unit_list_price * quantity as decimal(18, 2)) as list_amount,
        cast((unit_list_price - unit_price) * quantity as decimal(18, 2)) as markdown_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(unit_price * quantity - discount_amount as decimal(18, 2)) as paid_amount,
        cast(unit_cost * quantity as decimal(18, 2)) as cost_amount,
        cast(unit_price * quantity - discount_amount - unit_cost * quantity as decimal(18, 2)) as margin_amount,
        cast(coalesce(returned_quantity, 0) as integer) as returned_quantity,
        cast(coalesce(returned_amount, 0) as decimal(18, 2)) as returned_amount,
        cast(
            case
                when status = 'cancelled' then 0
                else unit_price * quantity - discount_amount - coalesce(returned_amount, 0)
            end as decimal(18, 2)
        ) as net_amount,

        -- booleans
        status = 'cancelled' as is_cancelled,
        unit_price < unit_list_price as is_markdown,
        unit_price >= unit_list_price and discount_amount = 0 as is_full_price,
        coalesce(returned_quantity, 0) > 0 as is_returned,

        -- dates
        cast(ordered_at as date) as order_date,

        -- timestamps
        ordered_at,
        first_returned_at,

        -- lineage
        greatest(order_loaded_at, dlt_loaded_at, returns_loaded_at) as dlt_loaded_at

    from lines_with_returns

)

select * from lines_measured
