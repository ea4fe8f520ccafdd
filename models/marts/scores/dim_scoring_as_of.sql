-- The point in time and the settings of every scoring model, one row. The Python models cannot
-- call macros, so they read the as-of date (`kith_as_of_date()`: var `kith__as_of_date` or the
-- latest data) and the scoring vars from here: one definition for all of them.
with

settings as (

    select
        -- numerics
        cast({{ var('kith__propensity_horizon_days') }} as integer) as propensity_horizon_days,
        cast({{ var('kith__recommendations_per_customer') }} as integer) as recommendations_per_customer,
        cast({{ var('kith__recommendation_min_pair_count') }} as integer) as recommendation_min_pair_count,
        cast({{ var('kith__clv_annual_discount_rate') }} as double) as clv_annual_discount_rate,

        -- dates
        {{ kith_as_of_date() }} as as_of_date

)

select * from settings
