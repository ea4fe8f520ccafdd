{#- Contract types on Spark. The models' YAML declares DuckDB types (`varchar`, `varchar[]`,
    `json`); dbt checks a contract by casting null to each declared type on the engine, and Spark
    has no `varchar` without a length, no `t[]` and no `json`. The spark target translates them to
    Spark's own (string, array<t>, string) in dbt's empty-schema query; every other type (integer,
    bigint, double, decimal(p,s), date, timestamp, boolean) is the same on both engines. -#}
{% macro kith_spark_data_type(data_type) -%}
    {%- set declared = data_type | trim -%}
    {%- if declared.endswith('[]') -%}
        {{- return('array<' ~ kith_spark_data_type(declared[:-2]) ~ '>') -}}
    {%- endif -%}
    {%- set lowered = declared | lower -%}
    {%- if lowered in ('varchar', 'text', 'json') -%}
        {{- return('string') -}}
    {%- endif -%}
    {{- return(declared) -}}
{%- endmacro %}

{#- dbt's get_empty_schema_sql (the contract's declared side) for the spark target, with the types
    translated by kith_spark_data_type. -#}
{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set column = columns[name] -%}
        {%- if column.get('data_type') is not none -%}
            {%- set copy = {} -%}{%- do copy.update(column) -%}
            {%- do copy.update({'data_type': kith_spark_data_type(column['data_type'])}) -%}
            {%- do translated.update({name: copy}) -%}
        {%- else -%}
            {%- do translated.update({name: column}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}
