-- Each customer's spend share per category up to the as-of date and its index against the
-- population (1 = like the average customer), with the category's rank for the customer.
-- Computed by fct_category_affinities_computed.
with

fct_category_affinities_computed as (

    select * from {{ ref('fct_category_affinities_computed') }}

),

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

affinities as (

    select
        -- ids
        cast(fct_category_affinities_computed.customer_id as {{ kith_type_string() }}) as customer_id,

        -- strings
        cast(fct_category_affinities_computed.category as {{ kith_type_string() }}) as category,

        -- numerics
        {{ kith_double_to_decimal('fct_category_affinities_computed.spend', 18, 2) }} as spend_amount,
        cast(fct_category_affinities_computed.spend_share as double) as spend_share,
        cast(fct_category_affinities_computed.population_share as double) as population_share,
        cast(fct_category_affinities_computed.affinity_index as double) as affinity_index,
        cast(row_number() over (
            partition by fct_category_affinities_computed.customer_id
            order by fct_category_affinities_computed.spend_share desc, fct_category_affinities_computed.category asc
        ) as integer) as affinity_rank,

        -- dates
        dim_scoring_as_of.as_of_date

    from fct_category_affinities_computed
    cross join dim_scoring_as_of

)

select * from affinities
