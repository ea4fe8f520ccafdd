{#- The spark target's sources: every source table of the project is an external Parquet table
    over the lake folder `kith lake` writes (KITH_LAKE/<schema>/<table>/), registered again at the
    start of every run (dropping an external table leaves its files; a new registration sees the
    files written since). Run by the on-run-start hook; nothing on DuckDB, whose raw schemas are
    the dlt datasets themselves. On a real data lake KITH_LAKE is the object-storage prefix
    (s3a://bucket/kith, abfss://..., gs://...). -#}
{% macro kith_register_lake_sources() -%}
    {{- return(adapter.dispatch('kith_register_lake_sources', 'kith')()) -}}
{%- endmacro %}

{% macro default__kith_register_lake_sources() -%}{%- endmacro %}

{% macro spark__kith_register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('KITH_LAKE', 'data/warehouse/lake') | replace('\\', '/') -%}
        {%- if "'" in lake or '"' in lake -%}
            {{ exceptions.raise_compiler_error("KITH_LAKE must not contain quotes: " ~ lake) }}
        {%- endif -%}
        {%- set schemas = [] -%}
        {%- for source_node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if source_node.schema not in schemas -%}
                {%- do schemas.append(source_node.schema) -%}
                {%- do run_query('create schema if not exists ' ~ source_node.schema) -%}
            {%- endif -%}
            {%- set name = source_node.schema ~ '.' ~ source_node.identifier -%}
            {%- do run_query('drop table if exists ' ~ name) -%}
            {%- do run_query(
                'create table ' ~ name ~ " using parquet location '" ~ lake ~ '/' ~ source_node.schema
                ~ '/' ~ source_node.identifier ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- A raw column's type as found in the warehouse, in DuckDB's spelling (the sources YAML declares
    DuckDB types; kith_check_source_node_columns compares through this). -#}
{% macro kith_found_data_type(data_type) -%}
    {{- return(adapter.dispatch('kith_found_data_type', 'kith')(data_type)) -}}
{%- endmacro %}

{% macro default__kith_found_data_type(data_type) -%}
    {{- return(data_type) -}}
{%- endmacro %}

{#- Spark's TIMESTAMP is an instant (DuckDB's TIMESTAMP WITH TIME ZONE); TIMESTAMP_NTZ is a
    wall-clock timestamp (DuckDB's TIMESTAMP). -#}
{% macro spark__kith_found_data_type(data_type) -%}
    {%- set cleaned = data_type | upper | trim -%}
    {%- set spark_names = {
        'STRING': 'VARCHAR', 'INT': 'INTEGER', 'TIMESTAMP': 'TIMESTAMP WITH TIME ZONE',
        'TIMESTAMP_NTZ': 'TIMESTAMP', 'TINYINT': 'TINYINT', 'SMALLINT': 'SMALLINT',
    } -%}
    {{- return(spark_names.get(cleaned, cleaned)) -}}
{%- endmacro %}


{#- A text value as a SQL string literal. -#}
{% macro kith_sql_string(value) -%}
    {{- return(adapter.dispatch('kith_sql_string', 'kith')(value)) -}}
{%- endmacro %}

{#- Single quotes doubled. -#}
{% macro default__kith_sql_string(value) -%}
    {{- return("'" ~ (value | replace("'", "''")) ~ "'") -}}
{%- endmacro %}

{#- Spark with escapedStringLiterals (the profile) reads a literal as written, backslashes included,
    and has no doubled-quote escape: a value holding a single quote is written in double quotes. -#}
{% macro spark__kith_sql_string(value) -%}
    {%- set text = value | string -%}
    {%- if "'" not in text -%}
        {{- return("'" ~ text ~ "'") -}}
    {%- elif '"' not in text -%}
        {{- return('"' ~ text ~ '"') -}}
    {%- else -%}
        {{ exceptions.raise_compiler_error("kith_sql_string: a value with both quote characters cannot be a Spark literal: " ~ text) }}
    {%- endif -%}
{%- endmacro %}


{#- Seeds on Spark. dbt reads a seed through agate, which turns the text `null` into a null (a
    junk rule's value is the word `null`), and dbt-spark's session method pastes each value between
    single quotes without escaping. With the session method the CSV file is read by Spark's own
    CSV reader (every field as text, only an empty field is null) and cast to the column types;
    with a remote cluster, which cannot read the file, the rows agate parsed are written as
    literals by kith_sql_string(). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set casts = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
        {%- do casts.append((col_name, column_override.get(col_name, inferred_type))) -%}
    {%- endfor -%}
    {%- if (target.method | default(env_var('KITH_SPARK_METHOD', 'session'), true)) == 'session' -%}
        {%- set path = (model.root_path ~ '/' ~ model.original_file_path) | replace('\\', '/') -%}
        {%- if "'" in path -%}
            {{ exceptions.raise_compiler_error("spark__load_csv_rows: a seed path must not contain quotes: " ~ path) }}
        {%- endif -%}
        {#- one view per seed: seeds load in parallel threads of one SparkSession -#}
        {%- set rows_view = 'kith_seed_rows_' ~ this.identifier -%}
        {%- do run_query(
            "create or replace temporary view " ~ rows_view ~ " using csv options (path '" ~ path
            ~ "', header 'true', escape '\"', encoding 'UTF-8')"
        ) -%}
        {%- set sql -%}
            insert into {{ this.render() }}
            select
            {%- for col_name, type in casts %}
                cast(`{{ col_name }}` as {{ type }}){% if not loop.last %},{% endif %}
            {%- endfor %}
            from {{ rows_view }}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {{ return(sql) }}
    {%- endif -%}
    {%- set batch_size = get_batch_size() -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name, type in casts -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ 'null' if value is none else kith_sql_string(value | string) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}


{#- Scratch tables of the connected-components loop (macros/identity/connected_components.sql) as
    Spark's built-in Parquet tables (a bare `create table ... as` would make a Hive text table). -#}
{% macro spark__kith_create_scratch_table(relation, sql) -%}
    {%- do adapter.drop_relation(relation) -%}
    {%- do run_query("create table " ~ relation ~ " using parquet as\n" ~ sql) -%}
{%- endmacro %}
