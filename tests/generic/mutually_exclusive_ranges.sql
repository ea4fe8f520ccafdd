{#-
    Ranges [lower_bound_column, upper_bound_column) must not overlap within each partition_by group.
    A null upper bound is an open end (e.g. the current row of a history): allowed only on the last
    range of its partition. A null lower bound always fails.
    gaps: 'allowed' (default) | 'not_allowed' (each range ends where the next starts)
          | 'required' (each range ends strictly before the next starts), as in dbt_utils.
    zero_length_range_allowed: false (default) requires lower < upper; true allows lower = upper.
    Returns one row per range that breaks a rule.
-#}
{% test mutually_exclusive_ranges(
    model,
    lower_bound_column,
    upper_bound_column,
    partition_by=none,
    gaps='allowed',
    zero_length_range_allowed=false
) %}

{%- if gaps == 'not_allowed' -%}
    {%- set gaps_operator = '=' -%}
{%- elif gaps == 'allowed' -%}
    {%- set gaps_operator = '<=' -%}
{%- elif gaps == 'required' -%}
    {%- set gaps_operator = '<' -%}
{%- else -%}
    {{ exceptions.raise_compiler_error(
        "mutually_exclusive_ranges: gaps must be one of 'allowed', 'not_allowed', 'required'; got '"
        ~ gaps ~ "'"
    ) }}
{%- endif -%}
{%- set length_operator = '<=' if zero_length_range_allowed else '<' -%}
{%- set partition_clause = 'partition by ' ~ partition_by if partition_by else '' %}

with ranges as (

    select
        {%- if partition_by %}
        {{ partition_by }},
        {%- endif %}
        {{ lower_bound_column }} as lower_bound,
        {{ upper_bound_column }} as upper_bound,
        lead({{ lower_bound_column }}) over (
            {{ partition_clause }}
            order by {{ lower_bound_column }} asc nulls last, {{ upper_bound_column }} asc nulls last
        ) as next_lower_bound,
        row_number() over (
            {{ partition_clause }}
            order by {{ lower_bound_column }} desc nulls first, {{ upper_bound_column }} desc nulls first
        ) = 1 as is_last_range
    from {{ model }}

),

checked as (

    select
        *,
        -- every range has a start, and ends after it starts (or is open-ended)
        coalesce(
            lower_bound is not null
            and (upper_bound is null or lower_bound {{ length_operator }} upper_bound),
            false
        ) as is_well_formed,
        -- every range ends before (or where) the next one starts; only the last may be open
        coalesce(
            upper_bound {{ gaps_operator }} next_lower_bound,
            is_last_range,
            false
        ) as is_followed_correctly
    from ranges

)

select *
from checked
where not (is_well_formed and is_followed_correctly)

{% endtest %}
