-- In-store offer: customers who viewed a product online (web or app) in the last
-- `kith__browse_abandon_days` days and have ordered nothing since, when a store near them (their
-- home store, or a store in their postcode area) has it in stock in the latest inventory. One
-- offer per customer: the product viewed last, at the home store if it has it, else the nearby
-- store with the most units.
{%- set browse_days = var('kith__browse_abandon_days') | int %}

with

dim_audience_candidates as (

    select * from {{ ref('dim_audience_candidates') }}

),

fct_touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

int_product_variants as (

    select * from {{ ref('int_product_variants') }}

),

int_inventory_by_location as (

    select * from {{ ref('int_inventory_by_location') }}

),

as_of as (

    select {{ kith_as_of_date() }} as as_of_date

),

product_views as (

    select
        fct_touchpoints.customer_id,
        fct_touchpoints.sku,
        max(fct_touchpoints.occurred_at) as viewed_at
    from fct_touchpoints
    cross join as_of
    where
        fct_touchpoints.touchpoint_type = 'product_view'
        and fct_touchpoints.channel in ('web', 'app')
        and fct_touchpoints.customer_id is not null
        and fct_touchpoints.sku is not null
        and fct_touchpoints.occurred_at >= as_of.as_of_date - interval {{ browse_days }} day
        and fct_touchpoints.occurred_at < as_of.as_of_date + interval 1 day
    group by 1, 2

),

last_orders as (

    select
        fct_orders.customer_id,
        max(fct_orders.ordered_at) as last_ordered_at
    from fct_orders
    cross join as_of
    where
        fct_orders.customer_id is not null
        and not fct_orders.is_cancelled
        and fct_orders.ordered_at < as_of.as_of_date + interval 1 day
    group by 1

),

views_not_followed_by_orders as (

    select product_views.*
    from product_views
    left join last_orders
        on product_views.customer_id = last_orders.customer_id
    where last_orders.last_ordered_at is null or last_orders.last_ordered_at < product_views.viewed_at

),

store_stock as (

    select
        int_inventory_by_location.store_id,
        int_inventory_by_location.store_postcode_area,
        int_inventory_by_location.sku,
        int_inventory_by_location.quantity_on_hand
    from int_inventory_by_location
    cross join as_of
    where
        int_inventory_by_location.store_id is not null
        and int_inventory_by_location.quantity_on_hand > 0
        and int_inventory_by_location.snapshot_date = (
            select max(latest.snapshot_date) from int_inventory_by_location as latest
            where latest.snapshot_date <= as_of.as_of_date
        )

),

offers as (

    {% call kith_qualify(
        "row_number() over (partition by dim_audience_candidates.customer_id"
        ~ " order by views_not_followed_by_orders.viewed_at desc,"
        ~ " store_stock.store_id = dim_audience_candidates.home_store_id desc,"
        ~ " store_stock.quantity_on_hand desc, store_stock.store_id asc, views_not_followed_by_orders.sku asc) = 1"
    ) -%}
    select
        dim_audience_candidates.customer_id,
        dim_audience_candidates.email,
        dim_audience_candidates.phone_e164,
        views_not_followed_by_orders.sku,
        views_not_followed_by_orders.viewed_at,
        store_stock.store_id,
        store_stock.quantity_on_hand
    from views_not_followed_by_orders
    inner join dim_audience_candidates
        on views_not_followed_by_orders.customer_id = dim_audience_candidates.customer_id
    inner join store_stock
        on
            views_not_followed_by_orders.sku = store_stock.sku
            and (
                dim_audience_candidates.home_store_id = store_stock.store_id
                or dim_audience_candidates.postcode_area = store_stock.store_postcode_area
            )
    {%- endcall %}

),

members as (

    select
        offers.customer_id,
        offers.email,
        offers.phone_e164,
        'viewed ' || coalesce(int_product_variants.product_name, offers.sku) || ' online on '
        || {{ kith_format_date('offers.viewed_at', '%Y-%m-%d') }}
        || ', no order since; in stock at store ' || offers.store_id
            as audience_reason,
        offers.sku,
        int_product_variants.product_name,
        offers.store_id,
        offers.viewed_at
    from offers
    left join int_product_variants
        on offers.sku = int_product_variants.sku

)

select * from members
