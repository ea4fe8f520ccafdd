-- The latest build appended one row per model to the runs history, at the current as-of date,
-- and the published coefficients are those of its propensity fit.
with

dim_scoring_as_of as (

    select * from {{ ref('dim_scoring_as_of') }}

),

fct_scoring_model_runs as (

    select * from {{ ref('fct_scoring_model_runs') }}

),

fct_propensity_coefficients as (

    select * from {{ ref('fct_propensity_coefficients') }}

),

latest_runs as (

    {% call kith_qualify("fitted_at = max(fitted_at) over ()") -%}
    select *
    from fct_scoring_model_runs
    {%- endcall %}

),

latest_propensity as (

    select *
    from latest_runs
    where model_name = 'purchase_propensity'

),

problems as (

    select 'latest build does not hold the three models once each' as problem
    from latest_runs
    having count(*) <> 3 or count(distinct model_name) <> 3

    union all

    select 'latest build is not at the current as-of date' as problem
    from latest_runs
    cross join dim_scoring_as_of
    where latest_runs.as_of_date <> dim_scoring_as_of.as_of_date

    union all

    select 'coefficients are not those of the latest propensity fit' as problem
    from fct_propensity_coefficients
    left join latest_propensity
        on fct_propensity_coefficients.fitted_at = latest_propensity.fitted_at
    where
        latest_propensity.model_name is null
        or fct_propensity_coefficients.coefficient
        <> cast(
            {{ kith_json_value('latest_propensity.parameters', '$.', 'fct_propensity_coefficients.term') }} as double
        )

)

select * from problems
