-- The purchase propensity model of the latest build, one row per term: the logistic regression's
-- coefficients with their standard errors, z values and p values (stored as JSON by the fit).
with

fct_scoring_model_fits as (

    select * from {{ ref('fct_scoring_model_fits') }}

),

propensity_fit as (

    select
        as_of_date,
        fitted_at,
        fit_method,
        n_customers,
        cast(parameters as json) as parameters,  -- noqa: RF04
        cast(standard_errors as json) as standard_errors,
        cast(details as json) as details,
        json_keys(cast(parameters as json)) as terms
    from fct_scoring_model_fits
    where
        model_name = 'purchase_propensity'
        and status = 'fitted'

),

terms_unnested as (

    select
        propensity_fit.*,
        unnest(propensity_fit.terms) as term,
        unnest(range(0, len(propensity_fit.terms))) as term_position
    from propensity_fit

),

coefficients as (

    select
        -- ids
        term,

        -- strings
        fit_method,

        -- numerics
        cast(term_position as integer) as term_position,
        cast(json_extract(parameters, '$."' || term || '"') as double) as coefficient,
        cast(json_extract(standard_errors, '$."' || term || '"') as double) as standard_error,
        cast(json_extract(details, '$.z_values."' || term || '"') as double) as z_value,
        cast(json_extract(details, '$.p_values."' || term || '"') as double) as p_value,
        cast(n_customers as integer) as customer_count,

        -- dates
        cast(as_of_date as date) as as_of_date,

        -- timestamps
        cast(fitted_at as timestamp) as fitted_at

    from terms_unnested

)

select * from coefficients
