-- The calendar: one row per day, the time spine of the semantic layer (MetricFlow joins metrics to
-- it by day, week, month, quarter and year) and a date dimension for BI. It runs from 1 January of
-- the year of the earliest order, touchpoint or first-seen customer to 31 December of the year
-- after the latest one, so it always covers the data (and a year of forecasts) without settings.
with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

dim_customers as (

    select * from {{ ref('dim_customers') }}

),

activity_dates as (

    select order_date as activity_date from fct_orders
    union all
    select touchpoint_date as activity_date from fct_touchpoints
    union all
    select cast(first_seen_at as date) as activity_date from dim_customers

),

bounds as (

    -- an empty warehouse still gets this year's calendar
    select
        cast(date_trunc('year', coalesce(min(activity_date), current_date)) as date) as first_date,
        cast(
            date_trunc('year', coalesce(max(activity_date), current_date)) + interval 2 year - interval 1 day
            as date
        ) as last_date
    from activity_dates

),

days as (

    select cast(calendar_days.calendar_day as date) as calendar_date
    from bounds
    cross join {{ kith_day_series('bounds.first_date', 'bounds.last_date', 'calendar_days', 'calendar_day') }}

),

calendar as (

    select
        -- numerics
        cast(year(calendar_date) as integer) as year_number,
        cast(quarter(calendar_date) as integer) as quarter_number,
        cast(month(calendar_date) as integer) as month_number,
        cast({{ kith_iso_day_of_week('calendar_date') }} as integer) as iso_day_of_week,

        -- booleans
        {{ kith_iso_day_of_week('calendar_date') }} in (6, 7) as is_weekend,

        -- dates
        calendar_date,
        cast(date_trunc('week', calendar_date) as date) as week_start_date,
        cast(date_trunc('month', calendar_date) as date) as month_start_date,
        cast(date_trunc('quarter', calendar_date) as date) as quarter_start_date,
        cast(date_trunc('year', calendar_date) as date) as year_start_date

    from days

)

select * from calendar
