{#- Schema drift guard, called at the top of every staging model:

        {{ kith_assert_source_columns('crm', 'contacts') }}

    and run as the data test `columns_match_declared` on every source table (so that
    `dbt build` stops at the source, before the staging unit tests and models run).
    Compares the columns of the raw table in the warehouse with the columns and `data_type`s
    declared for that source table in its _<system>__sources.yml. A declared column that is
    missing or whose type changed fails the model (and so `dbt build`) with a message naming the
    source, the table and the columns; a column the YAML does not declare (the loader keeps new
    landing columns as text) only logs a warning. One information_schema query per call. The
    model-level check runs only when dbt builds (run, build, retry): not at parse time, not in
    unit tests (their inputs are fixtures and `graph` is empty there), and not when SQL is only
    compiled (dbt compile, docs generate, sqlfluff's dbt templater on an empty warehouse). -#}
{% macro kith_assert_source_columns(source_name, table_name) -%}
    {%- if execute and kith_is_building() and model.resource_type != 'unit_test' -%}
        {%- set source_node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        {%- if source_node is not defined or source_node is none -%}
            {{ exceptions.raise_compiler_error(
                "kith_assert_source_columns: no source('" ~ source_name ~ "', '" ~ table_name ~ "') in the project"
            ) }}
        {%- endif -%}
        {%- do kith_check_source_node_columns(source_node, warn_new_columns=true) -%}
    {%- endif -%}
{%- endmacro %}


{#- Data test on a source table: passes (no rows) when the raw table matches its declaration,
    fails with the drift message otherwise. Declared on every table of the sources YAML. -#}
{% test columns_match_declared(model) %}
    {%- if execute -%}
        {%- set source_node = graph.sources.values()
            | selectattr('schema', 'equalto', model.schema)
            | selectattr('identifier', 'equalto', model.identifier)
            | first -%}
        {%- if source_node is not defined or source_node is none -%}
            {{ exceptions.raise_compiler_error(
                "columns_match_declared: " ~ model ~ " is not a source table of the project"
            ) }}
        {%- endif -%}
        {%- do kith_check_source_node_columns(source_node, warn_new_columns=false) -%}
    {%- endif %}
    select 1 as drifted where false
{% endtest %}


{#- The check itself, for one source node of the graph; new columns are logged when
    `warn_new_columns` (by the models, so each new column is reported once per run). -#}
{% macro kith_check_source_node_columns(source_node, warn_new_columns=true) -%}
    {%- set relation = api.Relation.create(
        database=source_node.database, schema=source_node.schema, identifier=source_node.identifier
    ) -%}
    {%- set label = source_node.schema ~ "." ~ source_node.identifier
        ~ " (source('" ~ source_node.source_name ~ "', '" ~ source_node.name ~ "'))" -%}

    {%- set actual = {} -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do actual.update({column.name | lower: kith_found_data_type(column.dtype)}) -%}
    {%- endfor -%}
    {%- if actual | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Schema drift in source " ~ label ~ ": the table does not exist (or has no columns)"
        ) }}
    {%- endif -%}

    {%- set problems = [] -%}
    {%- for name, column in source_node.columns.items() -%}
        {%- set column_name = name | lower -%}
        {%- if column_name not in actual -%}
            {%- do problems.append("column '" ~ column_name ~ "' is missing (declared " ~ column.data_type ~ ")") -%}
        {%- elif column.data_type
            and kith_normalize_data_type(column.data_type) != kith_normalize_data_type(actual[column_name]) -%}
            {%- do problems.append(
                "column '" ~ column_name ~ "' changed type: declared " ~ column.data_type
                ~ ", found " ~ actual[column_name]
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Schema drift in source " ~ label ~ ": " ~ problems | join("; ")
            ~ ". Fix the raw layer, or update " ~ source_node.original_file_path ~ " and its staging model."
        ) }}
    {%- endif -%}

    {%- set declared = source_node.columns.keys() | map('lower') | list -%}
    {%- set undeclared = [] -%}
    {%- for column_name in actual.keys() | sort -%}
        {%- if column_name not in declared -%}{%- do undeclared.append(column_name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if undeclared and warn_new_columns -%}
        {%- do exceptions.warn(
            "New columns in source " ~ label ~ " not declared in " ~ source_node.original_file_path
            ~ ": " ~ undeclared | join(", ") ~ " (not staged until modelled)"
        ) -%}
    {%- endif -%}
{%- endmacro %}


{#- A DuckDB type name in one canonical spelling, so that declared and found types compare:
    uppercase, no spaces after commas, aliases resolved (TEXT -> VARCHAR, TIMESTAMPTZ ->
    TIMESTAMP WITH TIME ZONE, INT8 -> BIGINT, NUMERIC -> DECIMAL, FLOAT8 -> DOUBLE, BOOL -> BOOLEAN). -#}
{% macro kith_normalize_data_type(data_type) -%}
    {%- set aliases = {
        'TEXT': 'VARCHAR', 'STRING': 'VARCHAR', 'CHAR': 'VARCHAR', 'BPCHAR': 'VARCHAR',
        'INT8': 'BIGINT', 'LONG': 'BIGINT',
        'TIMESTAMPTZ': 'TIMESTAMP WITH TIME ZONE',
        'FLOAT8': 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE',
        'BOOL': 'BOOLEAN', 'LOGICAL': 'BOOLEAN',
    } -%}
    {%- set cleaned = data_type | upper | trim | replace(', ', ',') | replace('NUMERIC', 'DECIMAL') -%}
    {{- return(aliases.get(cleaned, cleaned)) -}}
{%- endmacro %}


{#- True when this dbt command executes models or tests against the warehouse (run, build,
    retry, test), false when it only compiles SQL (compile, docs generate, show, sqlfluff). -#}
{% macro kith_is_building() -%}
    {{- return(flags.WHICH in ['run', 'build', 'retry', 'test']) -}}
{%- endmacro %}
