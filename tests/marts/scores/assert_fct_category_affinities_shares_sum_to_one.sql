-- Each customer's category spend shares add up to 1, and the population shares add up to 1 over
-- the categories.
with

fct_category_affinities as (

    select * from {{ ref('fct_category_affinities') }}

),

customer_totals as (

    select
        customer_id,
        sum(spend_share) as total_share
    from fct_category_affinities
    group by 1

),

population_shares as (

    select distinct
        category,
        population_share
    from fct_category_affinities

),

problems as (

    select
        customer_id as subject,
        total_share
    from customer_totals
    where abs(total_share - 1) > 1e-9

    union all

    select
        'population' as subject,
        sum(population_share) as total_share
    from population_shares
    having count(*) > 0 and abs(sum(population_share) - 1) > 1e-9

)

select * from problems
