-- Early access to a limited edition for loyal, high-value customers (low-value customers never),
-- only when their size and colour of it is in stock: the customer's preferred size is the size
-- they bought most units of among the sizes the product comes in (the product's own category
-- first), the preferred colour likewise; without a known preference any variant in stock will do.
-- The product is `kith__early_access_style_id`, else the limited edition launched last by as_of
-- among those with stock left (an edition that sold out has nothing to offer early access to).
{%- set style_id = var('kith__early_access_style_id') %}

with

dim_audience_candidates as (

    select * from {{ ref('dim_audience_candidates') }}

),

fct_order_lines as (

    select * from {{ ref('fct_order_lines') }}

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

latest_stock as (

    select
        int_inventory_by_location.sku,
        sum(int_inventory_by_location.quantity_on_hand) as quantity_on_hand
    from int_inventory_by_location
    cross join as_of
    where int_inventory_by_location.snapshot_date = (
            select max(latest.snapshot_date) from int_inventory_by_location as latest
            where latest.snapshot_date <= as_of.as_of_date
        )
    group by 1

),

-- The linter misreads the indentation of the if/else inside the qualify call block
-- noqa: disable=LT02
featured_style as (

    {% call kith_qualify(
        "row_number() over (order by max(int_product_variants.launch_date) desc, int_product_variants.style_id) = 1"
    ) -%}
    select
        int_product_variants.style_id,
        any_value(int_product_variants.product_name) as product_name,
        any_value(int_product_variants.category) as category
    from int_product_variants
    cross join as_of
    left join latest_stock
        on int_product_variants.sku = latest_stock.sku
    where
        int_product_variants.is_limited_edition
        {%- if style_id %}
        and int_product_variants.style_id = '{{ style_id | replace("'", "''") }}'
        {%- else %}
            and int_product_variants.launch_date <= as_of.as_of_date
        {%- endif %}
    group by 1
    {%- if not style_id %}
        having sum(latest_stock.quantity_on_hand) > 0
    {%- endif %}
    {%- endcall %}

),
-- noqa: enable=LT02

featured_variants as (

    select
        int_product_variants.sku,
        int_product_variants.size,
        int_product_variants.colour,
        coalesce(latest_stock.quantity_on_hand, 0) as quantity_on_hand
    from int_product_variants
    inner join featured_style
        on int_product_variants.style_id = featured_style.style_id
    left join latest_stock
        on int_product_variants.sku = latest_stock.sku

),

purchases as (

    select
        fct_order_lines.customer_id,
        int_product_variants.size,
        int_product_variants.colour,
        int_product_variants.category = featured_style.category as is_same_category,
        fct_order_lines.quantity
    from fct_order_lines
    inner join int_product_variants
        on fct_order_lines.sku = int_product_variants.sku
    cross join featured_style
    cross join as_of
    where
        fct_order_lines.customer_id is not null
        and not fct_order_lines.is_cancelled
        and fct_order_lines.ordered_at < as_of.as_of_date + interval 1 day

),

preferred_sizes as (

    {% call kith_qualify(
        "row_number() over (partition by customer_id"
        ~ " order by bool_or(is_same_category) desc, sum(quantity) desc, size) = 1"
    ) -%}
    select
        customer_id,
        size
    from purchases
    where size in (select featured_variants.size from featured_variants)
    group by 1, 2
    {%- endcall %}

),

preferred_colours as (

    {% call kith_qualify(
        "row_number() over (partition by customer_id"
        ~ " order by bool_or(is_same_category) desc, sum(quantity) desc, colour) = 1"
    ) -%}
    select
        customer_id,
        colour
    from purchases
    where colour in (select featured_variants.colour from featured_variants)
    group by 1, 2
    {%- endcall %}

),

eligible as (

    select * from dim_audience_candidates
    where is_loyal and is_high_value and not is_low_value

),

variants_offered as (

    -- the customer's variant of the product with the most stock (any variant when no preference)
    {% call kith_qualify(
        "row_number() over (partition by eligible.customer_id"
        ~ " order by featured_variants.quantity_on_hand desc, featured_variants.sku asc) = 1"
    ) -%}
    select
        eligible.customer_id,
        featured_variants.sku,
        featured_variants.size,
        featured_variants.colour,
        preferred_sizes.size is not null as is_size_known
    from eligible
    cross join featured_variants
    left join preferred_sizes
        on eligible.customer_id = preferred_sizes.customer_id
    left join preferred_colours
        on eligible.customer_id = preferred_colours.customer_id
    where
        featured_variants.quantity_on_hand > 0
        and (preferred_sizes.size is null or featured_variants.size = preferred_sizes.size)
        and (preferred_colours.colour is null or featured_variants.colour = preferred_colours.colour)
    {%- endcall %}

),

members as (

    select
        eligible.customer_id,
        eligible.email,
        eligible.phone_e164,
        'loyal and high value: early access to ' || featured_style.product_name
        || case
            when variants_offered.is_size_known then ', size ' || variants_offered.size || ' in stock'
            else ' (size not known yet)'
        end as audience_reason,
        featured_style.style_id,
        featured_style.product_name,
        variants_offered.sku,
        variants_offered.size,
        variants_offered.colour
    from eligible
    inner join variants_offered
        on eligible.customer_id = variants_offered.customer_id
    cross join featured_style

)

select * from members
