{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='fail',
    )
}}
-- History of every model fit, one row per model and build: appended, never rebuilt
-- (full_refresh=false), so parameters can be compared across builds and as-of dates.
with

fct_scoring_model_fits as (

    select * from {{ ref('fct_scoring_model_fits') }}

),

runs_typed as (

    select
        -- ids
        md5(model_name || '|' || {{ kith_format_date('fitted_at', '%Y-%m-%dT%H:%M:%S.%f') }}) as model_run_id,

        -- strings
        cast(model_name as {{ kith_type_string() }}) as model_name,
        cast(status as {{ kith_type_string() }}) as status,
        cast(failure_reason as {{ kith_type_string() }}) as failure_reason,
        cast(fit_method as {{ kith_type_string() }}) as fit_method,
        cast(notes as {{ kith_type_string() }}) as notes,

        -- numerics
        cast(n_customers as integer) as customer_count,
        cast(log_likelihood as double) as log_likelihood,
        cast(holdout_customer_count as integer) as holdout_customer_count,
        cast(holdout_auc as double) as holdout_auc,
        cast(holdout_brier_score as double) as holdout_brier_score,
        cast(holdout_base_rate as double) as holdout_base_rate,

        -- json
        cast(parameters as {{ kith_type_json() }}) as parameters,  -- noqa: RF04
        cast(standard_errors as {{ kith_type_json() }}) as standard_errors,
        cast(calibration as {{ kith_type_json() }}) as calibration,
        cast(details as {{ kith_type_json() }}) as details,

        -- dates
        cast(as_of_date as date) as as_of_date,
        cast(training_snapshot_date as date) as training_snapshot_date,
        cast(holdout_snapshot_date as date) as holdout_snapshot_date,

        -- timestamps
        cast(fitted_at as timestamp) as fitted_at

    from fct_scoring_model_fits
    {% if is_incremental() %}
        where fitted_at > (select coalesce(max(runs.fitted_at), timestamp '1900-01-01') from {{ this }} as runs)
    {% endif %}

)

select * from runs_typed
