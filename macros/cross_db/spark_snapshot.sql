{#- Snapshots on Spark without Delta Lake (docs/spark.md, "Snapshots on Spark").

    dbt-spark's own snapshot materialisation MERGEs the changes into the target, which only Delta
    Lake, Iceberg and Hudi tables accept; their jars come from Maven. This project-level
    materialisation (adapter spark only: DuckDB keeps dbt-duckdb's own) takes over for every file
    format: for delta, iceberg and hudi it runs dbt-spark's MERGE as before; for Spark's built-in
    formats (parquet by default) it emulates the MERGE as a full rewrite:

    1. the changes, `<name>__dbt_tmp`: dbt-core's own `snapshot_staging_table` (strategies, check
       columns, composite unique keys, hard_deletes) written as a table;
    2. the new contents, `<name>__dbt_new`: every row of the target, its `dbt_valid_to` set from the
       change whose `dbt_scd_id` matches a current row ('update' or 'delete', as the MERGE's
       `when matched`), plus the 'insert' changes (as its `when not matched`);
    3. `insert overwrite` of the target from `<name>__dbt_new`, then both helper tables dropped.

    The target is read in steps 1-2 and written only in step 3 from another table (Spark cannot
    overwrite a table it reads in the same statement). Columns and semantics are dbt-core 1.11's
    (dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to, dbt_valid_to_current). -#}

{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}

  {%- set strategy_name = config.get('strategy') -%}
  {%- set unique_key = config.get('unique_key') %}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}
  {%- set merges = file_format in ['delta', 'iceberg', 'hudi'] -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {%- if target_relation_exists and merges -%}
    {%- if not target_relation.is_delta and not target_relation.is_iceberg and not target_relation.is_hudi -%}
      {% do exceptions.raise_compiler_error(
          'The existing table ' ~ model.schema ~ '.' ~ target_table ~ ' is not in the file format '
          ~ file_format ~ ': run the snapshot with --full-refresh after dropping it') %}
    {%- endif -%}
  {%- endif -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}

  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}
  {% set helper_relations = [] %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% set final_sql = create_table_as(False, target_relation, build_sql) %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}

      {{ adapter.assert_valid_snapshot_target_given_strategy(target_relation, columns, strategy) }}

      {%- set staging_table = api.Relation.create(identifier=target_table ~ '__dbt_tmp',
                                                  schema=target_relation.schema,
                                                  database=none,
                                                  type='table') -%}
      {% do adapter.drop_relation(staging_table) %}
      {% call statement('build_snapshot_staging_relation') %}
          {{ create_table_as(False, staging_table, snapshot_staging_table(strategy, sql, target_relation)) }}
      {% endcall %}
      {% do helper_relations.append(staging_table) %}

      {% set remove_columns = ['dbt_change_type', 'DBT_CHANGE_TYPE', 'dbt_unique_key', 'DBT_UNIQUE_KEY'] %}
      {% if unique_key | is_list %}
          {% for key in strategy.unique_key %}
              {% do remove_columns.append('dbt_unique_key_' ~ loop.index) %}
              {% do remove_columns.append('DBT_UNIQUE_KEY_' ~ loop.index) %}
          {% endfor %}
      {% endif %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'in', remove_columns)
                                   | list %}

      {% do create_columns(target_relation, missing_columns) %}

      {% if merges %}

          {% set source_columns = adapter.get_columns_in_relation(staging_table)
                                       | rejectattr('name', 'in', remove_columns)
                                       | list %}
          {% set quoted_source_columns = [] %}
          {% for column in source_columns %}
            {% do quoted_source_columns.append(adapter.quote(column.name)) %}
          {% endfor %}
          {% set final_sql = snapshot_merge_sql(
                target = target_relation,
                source = staging_table,
                insert_cols = quoted_source_columns
             )
          %}

      {% else %}

          {#- a MERGE fails when two changes match one target row: so does the rewrite -#}
          {% set duplicates = kith_snapshot_duplicate_changes(staging_table, columns) %}
          {% if duplicates > 0 %}
              {% do exceptions.raise_compiler_error(
                  'Snapshot ' ~ target_relation ~ ': ' ~ duplicates ~ ' changes share a dbt_scd_id with another'
                  ~ ' (is the unique_key ' ~ unique_key ~ ' unique in the snapshot query?)') %}
          {% endif %}

          {%- set new_table = api.Relation.create(identifier=target_table ~ '__dbt_new',
                                                  schema=target_relation.schema,
                                                  database=none,
                                                  type='table') -%}
          {% do adapter.drop_relation(new_table) %}
          {% set target_columns = adapter.get_columns_in_relation(target_relation) %}
          {% set staging_names = adapter.get_columns_in_relation(staging_table) | map(attribute='name') | list %}
          {% call statement('build_snapshot_new_contents') %}
              {{ create_table_as(False, new_table,
                                 kith_snapshot_rewrite_sql(target_relation, staging_table, target_columns,
                                                           staging_names, columns)) }}
          {% endcall %}
          {% do helper_relations.append(new_table) %}

          {% set final_sql %}
              insert overwrite table {{ target_relation }}
              select * from {{ new_table }}
          {% endset %}

      {% endif %}

  {% endif %}

  {% call statement('main') %}
      {{ final_sql }}
  {% endcall %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode=False) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {{ adapter.commit() }}

  {% for relation in helper_relations %}
      {% do adapter.drop_relation(relation) %}
  {% endfor %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- The number of 'update' and 'delete' changes whose dbt_scd_id another change shares. -#}
{% macro kith_snapshot_duplicate_changes(staging_table, columns) %}
    {% set query %}
        select count(*) - count(distinct {{ columns.dbt_scd_id }})
        from {{ staging_table }}
        where dbt_change_type in ('update', 'delete')
    {% endset %}
    {% set result = run_query(query) %}
    {{ return(result.columns[0].values()[0] | int) }}
{% endmacro %}


{#- The snapshot's contents after the changes in `staging_table`, in the target's column order:
    the MERGE of dbt-spark's `spark__snapshot_merge_sql` as a select. -#}
{% macro kith_snapshot_rewrite_sql(target_relation, staging_table, target_columns, staging_names, columns) %}
    {%- set valid_to = columns.dbt_valid_to -%}
    {%- set scd_id = columns.dbt_scd_id -%}
    with closing as (
        select {{ scd_id }} as closing_scd_id, {{ valid_to }} as closing_valid_to
        from {{ staging_table }}
        where dbt_change_type in ('update', 'delete')
    )

    select
    {%- for column in target_columns %}
        {%- if column.name | lower == valid_to | lower %}
        case
            when closing.closing_scd_id is not null
                and (
                    {%- if config.get('dbt_valid_to_current') %}
                    kept.{{ valid_to }} = {{ config.get('dbt_valid_to_current') }} or
                    {%- endif %}
                    kept.{{ valid_to }} is null
                )
                then closing.closing_valid_to
            else kept.{{ valid_to }}
        end as {{ adapter.quote(column.name) }}
        {%- else %}
        kept.{{ adapter.quote(column.name) }}
        {%- endif %}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from {{ target_relation }} as kept
    left join closing
        on kept.{{ scd_id }} = closing.closing_scd_id

    union all

    select
    {%- for column in target_columns %}
        {%- if column.name in staging_names %}
        cast(inserted.{{ adapter.quote(column.name) }} as {{ column.data_type }}) as {{ adapter.quote(column.name) }}
        {%- else %}
        cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}
        {%- endif %}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
    from {{ staging_table }} as inserted
    where inserted.dbt_change_type = 'insert'
{% endmacro %}
