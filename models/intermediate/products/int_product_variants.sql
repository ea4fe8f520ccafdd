{{ config(materialized='view') }}
-- The catalogue at variant level (one row per SKU): style, size, colour, limited-edition flag and
-- launch date, for audiences that reason about a customer's size and colour of a product.
with

stg_erp__products as (

    select * from {{ ref('stg_erp__products') }}

),

variants as (

    select
        sku,
        style_id,
        product_name,
        brand,
        category,
        size,
        colour,
        coalesce(is_limited_edition, false) as is_limited_edition,
        launch_date
    from stg_erp__products

)

select * from variants
