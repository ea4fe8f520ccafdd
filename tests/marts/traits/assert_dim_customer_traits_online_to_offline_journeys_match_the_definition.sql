-- The online-to-offline journeys of dim_customer_traits (computed from the first browse of each
-- product per day) equal the definition applied to every browse: store order lines and product
-- views or QR scans of the same customer and SKU, browsed at or before the sale and at most
-- `kith__o2o_window_days` calendar days before its day, on or before the as-of day.
with

store_lines as (

    select
        customer_id,
        order_id,
        sku,
        order_date,
        ordered_at
    from {{ ref('fct_order_lines') }}
    where
        customer_id is not null
        and order_channel = 'store'
        and not is_cancelled
        and order_date <= {{ kith_as_of_date() }}

),

browses as (

    select
        customer_id,
        sku,
        touchpoint_date,
        occurred_at
    from {{ ref('fct_touchpoints') }}
    where
        customer_id is not null
        and sku is not null
        and touchpoint_type in ('product_view', 'qr_scan')
        and channel in ('web', 'app', 'qr')
        and touchpoint_date <= {{ kith_as_of_date() }}

),

journeys as (

    select distinct
        store_lines.customer_id,
        store_lines.order_id,
        store_lines.sku
    from store_lines
    inner join browses
        on
            store_lines.customer_id = browses.customer_id
            and store_lines.sku = browses.sku
            and store_lines.ordered_at >= browses.occurred_at
            and {{ kith_days_between('browses.touchpoint_date', 'store_lines.order_date') }}
            between 0 and {{ var('kith__o2o_window_days') }}

),

journeys_per_customer as (

    select
        customer_id,
        count(*) as journey_count
    from journeys
    group by 1

),

traits as (

    select * from {{ ref('dim_customer_traits') }}

),

mismatches as (

    select
        traits.customer_id,
        traits.online_to_offline_journey_count,
        journeys_per_customer.journey_count as expected_journey_count
    from traits
    left join journeys_per_customer
        on traits.customer_id = journeys_per_customer.customer_id
    where traits.online_to_offline_journey_count <> coalesce(journeys_per_customer.journey_count, 0)

)

select * from mismatches
