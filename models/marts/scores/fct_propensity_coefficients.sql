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
        cast(parameters as {{ kith_type_json() }}) as parameters,  -- noqa: RF04
        cast(standard_errors as {{ kith_type_json() }}) as standard_errors,
        cast(details as {{ kith_type_json() }}) as details,
        {{ kith_json_keys('cast(parameters as ' ~ kith_type_json() ~ ')') }} as terms
    from fct_scoring_model_fits
    where
        model_name = 'purchase_propensity'
        and status = 'fitted'

),

terms_unnested as (

    select
        propensity_fit.*,
        {{ kith_unnest_with_position('propensity_fit.terms', 'term', 'term_position') }}
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
        cast({{ kith_json_value('parameters', '$.', 'term') }} as double) as coefficient,
        cast({{ kith_json_value('standard_errors', '$.', 'term') }} as double) as standard_error,
        cast({{ kith_json_value('details', '$.z_values.', 'term') }} as double) as z_value,
        cast({{ kith_json_value('details', '$.p_values.', 'term') }} as double) as p_value,
        cast(n_customers as integer) as customer_count,

        -- dates
        cast(as_of_date as date) as as_of_date,

        -- timestamps
        cast(fitted_at as timestamp) as fitted_at

    from terms_unnested

)

select * from coefficients
