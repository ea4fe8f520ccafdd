-- One row per customer with an order or a touchpoint on or before the as-of day: what they buy,
-- how they shop and browse, as of `kith_as_of_date()`. Every input is first cut at the as-of day,
-- then aggregated per customer (or per customer and brand, category, product) before the joins,
-- so the cost grows with the rows, not with customers x rows. Definitions: _traits__docs.md.
{%- set o2o_window_days = var('kith__o2o_window_days') | int %}
{%- set recently_browsed_limit = var('kith__recently_browsed_limit') | int %}

with

dim_customer_scores as (

    select * from {{ ref('dim_customer_scores') }}

),

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

fct_touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

dim_customer_identifiers as (

    select * from {{ ref('dim_customer_identifiers') }}

),

as_of as (

    select {{ kith_as_of_date() }} as as_of_date

),

-- orders placed on or before the as-of day, cancelled ones included (they are activity)
orders_as_of as (

    select
        fct_orders.customer_id,
        fct_orders.order_id,
        fct_orders.order_channel,
        fct_orders.paid_amount,
        fct_orders.is_cancelled,
        fct_orders.order_date
    from fct_orders
    cross join as_of
    where
        fct_orders.customer_id is not null
        and fct_orders.order_date <= as_of.as_of_date

),

-- purchased lines: not cancelled, placed on or before the as-of day; a return counts once the
-- line's first return was received on or before the as-of day
lines_as_of as (

    select
        fct_order_lines.customer_id,
        fct_order_lines.order_id,
        fct_order_lines.order_channel,
        fct_order_lines.sku,
        fct_order_lines.brand,
        fct_order_lines.category,
        fct_order_lines.quantity,
        fct_order_lines.list_amount,
        fct_order_lines.paid_amount,
        fct_order_lines.is_full_price,
        fct_order_lines.order_date,
        fct_order_lines.ordered_at,
        case
            when cast(fct_order_lines.first_returned_at as date) <= as_of.as_of_date
                then fct_order_lines.returned_quantity
            else 0
        end as returned_quantity,
        case
            when cast(fct_order_lines.first_returned_at as date) <= as_of.as_of_date
                then fct_order_lines.refund_method
        end as refund_method
    from fct_order_lines
    cross join as_of
    where
        fct_order_lines.customer_id is not null
        and not fct_order_lines.is_cancelled
        and fct_order_lines.order_date <= as_of.as_of_date

),

touchpoints_as_of as (

    select
        fct_touchpoints.customer_id,
        fct_touchpoints.channel,
        fct_touchpoints.touchpoint_type,
        fct_touchpoints.sku,
        fct_touchpoints.touchpoint_date,
        fct_touchpoints.occurred_at
    from fct_touchpoints
    cross join as_of
    where
        fct_touchpoints.customer_id is not null
        and fct_touchpoints.touchpoint_date <= as_of.as_of_date

),

customers_known as (

    select distinct customer_id
    from dim_customer_identifiers

),

customers_active as (

    select customer_id from orders_as_of
    union
    select customer_id from touchpoints_as_of

),

customers as (

    select customers_known.customer_id
    from customers_known
    inner join customers_active
        on customers_known.customer_id = customers_active.customer_id

),

order_totals as (

    select
        customer_id,
        count(*) as order_count,
        count(*) filter (where order_channel = 'online') as online_order_count,
        count(*) filter (where order_channel = 'store') as store_order_count,
        sum(paid_amount) as total_spend_amount,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        {{ kith_string_agg_distinct('order_channel', "','") }} as shopped_channels,
        count(distinct order_channel) as shopped_channel_count
    from orders_as_of
    where not is_cancelled
    group by 1

),

line_totals as (

    select
        customer_id,
        count(distinct category) as shopped_category_count,
        sum(quantity) as purchased_quantity,
        sum(returned_quantity) as returned_quantity,
        sum(paid_amount) as paid_amount,
        coalesce(sum(paid_amount) filter (where is_full_price), 0) as full_price_paid_amount,
        sum(list_amount) as list_amount
    from lines_as_of
    group by 1

),

category_spend as (

    select
        customer_id,
        category,
        sum(paid_amount) as paid_amount
    from lines_as_of
    where category is not null
    group by 1, 2

),

-- highest spend first; equal spend: the category first in alphabetical order
favourite_categories as (

    select
        customer_id,
        {{ kith_first_by('category', 'paid_amount desc, category asc') }} as favourite_category,
        cast(max(paid_amount) as double) / cast(sum(paid_amount) as double) as favourite_category_spend_share
    from category_spend
    group by 1
    having sum(paid_amount) > 0

),

brand_spend as (

    select
        customer_id,
        brand,
        sum(paid_amount) as paid_amount
    from lines_as_of
    where brand is not null
    group by 1, 2

),

brand_shares as (

    {% call kith_qualify("sum(paid_amount) over (partition by customer_id) > 0") -%}
    select
        customer_id,
        brand,
        paid_amount,
        cast(paid_amount as double)
        / cast(sum(paid_amount) over (partition by customer_id) as double) as spend_share
    from brand_spend
    {%- endcall %}

),

-- same tie-break as categories; the loyalty index is the Herfindahl index of the brand shares
favourite_brands as (

    select
        customer_id,
        {{ kith_first_by('brand', 'paid_amount desc, brand asc') }} as favourite_brand,
        max(spend_share) as favourite_brand_spend_share,
        sum(spend_share * spend_share) as brand_loyalty_index
    from brand_shares
    group by 1

),

refund_method_counts as (

    select
        customer_id,
        refund_method,
        count(*) as returned_line_count
    from lines_as_of
    where refund_method is not null
    group by 1, 2

),

-- most returned lines first; equal counts: the method first in alphabetical order
usual_refund_methods as (

    select
        customer_id,
        {{ kith_first_by('refund_method', 'returned_line_count desc, refund_method asc') }} as usual_refund_method
    from refund_method_counts
    group by 1

),

online_logins as (

    select
        customer_id,
        count(*) filter (where touchpoint_type = 'login') as online_login_count,
        min(touchpoint_date) as first_online_date
    from touchpoints_as_of
    where channel in ('web', 'app')
    group by 1

),

-- a visit: any web, app, store or QR touchpoint, or an order (help desk and consent are not visits)
visit_days as (

    select
        customer_id,
        touchpoint_date as visit_date
    from touchpoints_as_of
    where channel in ('web', 'app', 'store', 'qr')

    union

    select
        customer_id,
        order_date as visit_date
    from orders_as_of

),

visit_totals as (

    select
        customer_id,
        count(*) as visit_day_count,
        min(visit_date) as first_visit_date
    from visit_days
    group by 1

),

-- browsing a product: viewing it on the web or in the app, or scanning its QR code in store
product_browses as (

    select
        customer_id,
        sku,
        touchpoint_date,
        occurred_at
    from touchpoints_as_of
    where
        sku is not null
        and (
            (channel in ('web', 'app') and touchpoint_type = 'product_view')
            or (channel = 'qr' and touchpoint_type = 'qr_scan')
        )

),

-- the earliest browse of each product per customer and day is all the window join needs
product_browse_days as (

    select
        customer_id,
        sku,
        touchpoint_date as browse_date,
        min(occurred_at) as first_browsed_at
    from product_browses
    group by 1, 2, 3

),

store_order_products as (

    select distinct
        customer_id,
        order_id,
        sku,
        order_date,
        ordered_at
    from lines_as_of
    where order_channel = 'store'

),

-- a store purchase of a product the same customer browsed in the window before it: on the day of
-- the purchase (before it) or up to `kith__o2o_window_days` days earlier
online_to_offline_journeys as (

    select
        store_order_products.customer_id,
        store_order_products.order_id,
        store_order_products.sku
    from store_order_products
    inner join product_browse_days
        on
            store_order_products.customer_id = product_browse_days.customer_id
            and store_order_products.sku = product_browse_days.sku
            and store_order_products.order_date - {{ o2o_window_days }} <= product_browse_days.browse_date
            and store_order_products.order_date >= product_browse_days.browse_date
            and store_order_products.ordered_at >= product_browse_days.first_browsed_at
    group by 1, 2, 3

),

online_to_offline_totals as (

    select
        customer_id,
        count(*) as journey_count,
        count(distinct order_id) as journey_order_count
    from online_to_offline_journeys
    group by 1

),

-- the last `kith__recently_browsed_limit` distinct products browsed; equal times: by sku
recently_browsed_products as (

    {% call kith_qualify(
        "row_number() over (partition by customer_id order by max(occurred_at) desc, sku asc) <= "
        ~ recently_browsed_limit
    ) -%}
    select
        customer_id,
        sku,
        max(occurred_at) as last_browsed_at
    from product_browses
    group by 1, 2
    {%- endcall %}

),

recently_browsed as (

    select
        customer_id,
        {{ kith_list_agg('sku', 'last_browsed_at desc, sku asc') }} as recently_browsed_skus
    from recently_browsed_products
    group by 1

),

traits_joined as (

    select
        -- ids
        customers.customer_id,

        -- strings
        order_totals.shopped_channels,
        favourite_categories.favourite_category,
        favourite_brands.favourite_brand,
        usual_refund_methods.usual_refund_method,

        -- numerics
        cast(coalesce(order_totals.order_count, 0) as integer) as order_count,
        cast(coalesce(order_totals.online_order_count, 0) as integer) as online_order_count,
        cast(coalesce(order_totals.store_order_count, 0) as integer) as store_order_count,
        cast(coalesce(order_totals.total_spend_amount, 0) as decimal(18, 2)) as total_spend_amount,
        cast({{ kith_days_between('order_totals.last_order_date', 'as_of.as_of_date') }} as integer)
            as days_since_last_order,
        cast(coalesce(order_totals.shopped_channel_count, 0) as integer) as shopped_channel_count,
        cast(coalesce(line_totals.shopped_category_count, 0) as integer) as shopped_category_count,
        favourite_categories.favourite_category_spend_share,
        favourite_brands.favourite_brand_spend_share,
        favourite_brands.brand_loyalty_index,
        case
            when line_totals.paid_amount > 0
                then cast(line_totals.full_price_paid_amount as double) / cast(line_totals.paid_amount as double)
        end as full_price_spend_share,
        case
            when line_totals.list_amount > 0
                then
                    cast(line_totals.list_amount - line_totals.paid_amount as double)
                    / cast(line_totals.list_amount as double)
        end as average_discount_rate,
        case
            when line_totals.purchased_quantity > 0
                then cast(line_totals.returned_quantity as double) / cast(line_totals.purchased_quantity as double)
        end as return_rate,
        -- observed online weeks: from the first web or app touchpoint to the as-of day, at least one
        cast(online_logins.online_login_count as double)
        / greatest(
            cast(1 as double),
            ({{ kith_days_between('online_logins.first_online_date', 'as_of.as_of_date') }} + 1) / cast(7 as double)
        )
            as online_logins_per_week,
        cast(coalesce(visit_totals.visit_day_count, 0) as integer) as visit_day_count,
        -- observed days: from the first visit to the as-of day, at least 30
        cast(30 * visit_totals.visit_day_count as double)
        / greatest(30, {{ kith_days_between('visit_totals.first_visit_date', 'as_of.as_of_date') }} + 1)
            as visit_days_per_30_days,
        cast(coalesce(online_to_offline_totals.journey_count, 0) as integer) as online_to_offline_journey_count,
        case
            when order_totals.store_order_count > 0
                then
                    cast(coalesce(online_to_offline_totals.journey_order_count, 0) as double)
                    / cast(order_totals.store_order_count as double)
        end as online_to_offline_store_order_share,

        -- headline scores of the same as-of date (dim_customer_scores), beside the traits
        dim_customer_scores.rfm_segment,
        dim_customer_scores.lifetime_value_12m,
        dim_customer_scores.churn_propensity,

        -- booleans
        coalesce(online_to_offline_totals.journey_count, 0) > 0 as is_online_to_offline_shopper,

        -- lists
        coalesce(recently_browsed.recently_browsed_skus, {{ kith_empty_list(kith_type_string()) }})
            as recently_browsed_skus,

        -- dates
        as_of.as_of_date,
        order_totals.first_order_date,
        order_totals.last_order_date

    from customers
    cross join as_of
    left join order_totals
        on customers.customer_id = order_totals.customer_id
    left join line_totals
        on customers.customer_id = line_totals.customer_id
    left join favourite_categories
        on customers.customer_id = favourite_categories.customer_id
    left join favourite_brands
        on customers.customer_id = favourite_brands.customer_id
    left join usual_refund_methods
        on customers.customer_id = usual_refund_methods.customer_id
    left join online_logins
        on customers.customer_id = online_logins.customer_id
    left join visit_totals
        on customers.customer_id = visit_totals.customer_id
    left join online_to_offline_totals
        on customers.customer_id = online_to_offline_totals.customer_id
    left join recently_browsed
        on customers.customer_id = recently_browsed.customer_id
    left join dim_customer_scores
        on customers.customer_id = dim_customer_scores.customer_id

)

select * from traits_joined
