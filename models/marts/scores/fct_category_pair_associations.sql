-- Market-basket summary by category pair over the orders placed up to the as-of date: how often
-- two categories share an order (support), how often a basket with the first also holds the
-- second (confidence), and how much more often than chance (lift). Both directions of each pair.
-- Computed by fct_category_pair_associations_computed.
with

fct_category_pair_associations_computed as (

    select * from {{ ref('fct_category_pair_associations_computed') }}

),

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

associations as (

    select
        -- strings
        cast(pairs.antecedent_category as {{ kith_type_string() }}) as antecedent_category,
        cast(pairs.consequent_category as {{ kith_type_string() }}) as consequent_category,

        -- numerics
        cast(pairs.pair_count as integer) as pair_order_count,
        cast(pairs.antecedent_count as integer) as antecedent_order_count,
        cast(pairs.consequent_count as integer) as consequent_order_count,
        cast(pairs.n_baskets as integer) as order_count,
        -- the market-basket term, though a keyword in some SQL dialects
        cast(pairs.support as double) as support,  -- noqa: RF04
        cast(pairs.confidence as double) as confidence,
        cast(pairs.lift as double) as lift,

        -- dates
        dim_scoring_as_of.as_of_date

    from fct_category_pair_associations_computed as pairs
    cross join dim_scoring_as_of

)

select * from associations
