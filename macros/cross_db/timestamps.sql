{#- Timestamps. The raw layer stores instants (DuckDB TIMESTAMP WITH TIME ZONE; Spark TIMESTAMP,
    read from UTC-adjusted Parquet); the models use UTC wall-clock timestamps. -#}

{#- An instant as a UTC timestamp without time zone. -#}
{% macro kith_utc_timestamp(expression) -%}
    {{- return(adapter.dispatch('kith_utc_timestamp', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_utc_timestamp(expression) -%}
    {{ expression }} at time zone 'UTC'
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant shown in the session time zone, which the profile sets to UTC. -#}
{% macro spark__kith_utc_timestamp(expression) -%}
    {{ expression }}
{%- endmacro %}


{#- Seconds since the Unix epoch (a double) as an instant, to the nearest microsecond (ties to
    even). DuckDB `to_timestamp`; Spark's cast truncates, and its round() rounds ties up, so it
    rounds with bround() first (checked equal on 3,000 random load ids). -#}
{% macro kith_epoch_to_timestamp(expression) -%}
    {{- return(adapter.dispatch('kith_epoch_to_timestamp', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_epoch_to_timestamp(expression) -%}
    to_timestamp({{ expression }})
{%- endmacro %}

{% macro spark__kith_epoch_to_timestamp(expression) -%}
    timestamp_micros(cast(bround({{ expression }} * 1000000) as bigint))
{%- endmacro %}


{#- Whole days from date `start` to date `end` (an integer; negative when `end` is earlier). DuckDB
    subtracts dates (`end - start`, unparenthesised: wrap it where precedence matters); Spark
    `datediff(end, start)` (date minus date is an interval there). -#}
{% macro kith_days_between(start, end) -%}
    {{- return(adapter.dispatch('kith_days_between', 'kith')(start, end)) -}}
{%- endmacro %}

{% macro default__kith_days_between(start, end) -%}
    {{ end }} - {{ start }}
{%- endmacro %}

{% macro spark__kith_days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}


{#- An interval of `minutes` minutes (an integer). DuckDB `to_minutes(n)`; Spark `interval n minutes`. -#}
{% macro kith_minutes(minutes) -%}
    {{- return(adapter.dispatch('kith_minutes', 'kith')(minutes)) -}}
{%- endmacro %}

{% macro default__kith_minutes(minutes) -%}
    to_minutes({{ minutes }})
{%- endmacro %}

{% macro spark__kith_minutes(minutes) -%}
    interval {{ minutes }} minutes
{%- endmacro %}


{#- The ISO day of the week of a date: 1 = Monday .. 7 = Sunday. DuckDB `isodow`; Spark
    `extract(dayofweek_iso from d)`. -#}
{% macro kith_iso_day_of_week(expression) -%}
    {{- return(adapter.dispatch('kith_iso_day_of_week', 'kith')(expression)) -}}
{%- endmacro %}

{% macro default__kith_iso_day_of_week(expression) -%}
    isodow({{ expression }})
{%- endmacro %}

{% macro spark__kith_iso_day_of_week(expression) -%}
    extract(dayofweek_iso from {{ expression }})
{%- endmacro %}


{#- A from-clause item (after `cross join`): one row per day from date `start` to date `end`
    included, the day as the column `alias.column` (cast it to a date). DuckDB
    `generate_series(start, end, interval 1 day) as alias (column)`; Spark
    `lateral explode(sequence(start, end, interval 1 day)) as alias (column)`. -#}
{% macro kith_day_series(start, end, alias, column) -%}
    {{- return(adapter.dispatch('kith_day_series', 'kith')(start, end, alias, column)) -}}
{%- endmacro %}

{% macro default__kith_day_series(start, end, alias, column) -%}
    generate_series({{ start }}, {{ end }}, interval 1 day) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__kith_day_series(start, end, alias, column) -%}
    lateral explode(sequence({{ start }}, {{ end }}, interval 1 day)) as {{ alias }} ({{ column }})
{%- endmacro %}
