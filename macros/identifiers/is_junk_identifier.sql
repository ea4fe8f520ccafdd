{#- Boolean SQL expression: true when an identifier value is a placeholder or unusable, by the
    rules of the seed identifier_junk_rules for `identifier_type` plus the rules of type `any`:
    - exact:   the value equals rule_value (case-insensitive);
    - pattern: the value matches the regex rule_value (case-insensitive);
    - format:  the value does NOT match the regex rule_value (the shape every valid value has).
    With `raw_column`, a raw value that is present but normalises to null (a phone that is not a
    number) is junk too. A missing value (null) is not junk: the flag is never null.

    The rules are read from the loaded seed when the model compiles and written into the SQL as
    constant regexes (a lookup join with per-row regexes is 100x slower in DuckDB), so the seed
    must be built first: the ref() below makes it a parent of every model that calls this. When
    SQL is only compiled (dbt compile, sqlfluff) against a warehouse without the seed, the flag
    renders as `false` with a comment instead of failing. -#}
{% macro is_junk_identifier(identifier_type, column, raw_column=none) -%}
    {%- set _parent = ref('identifier_junk_rules') -%}
    {%- if not execute -%}
        false
    {%- elif not kith_is_building() and identifier_junk_rules_relation() is none -%}
        false /* identifier_junk_rules not loaded: junk rules not inlined (compile only) */
    {%- else -%}
        {%- set rules = identifier_junk_rules(identifier_type) -%}
        {%- set checks = [] -%}
        {%- if rules.exact -%}
            {%- set values = [] -%}
            {%- for value in rules.exact -%}{%- do values.append(kith_sql_string(value | lower)) -%}{%- endfor -%}
            {%- do checks.append("lower(" ~ column ~ ") in (" ~ values | join(', ') ~ ")") -%}
        {%- endif -%}
        {%- if rules.pattern -%}
            {%- set alternatives = [] -%}
            {%- for pattern in rules.pattern -%}{%- do alternatives.append('(?:' ~ pattern ~ ')') -%}{%- endfor -%}
            {%- do checks.append(kith_regexp_matches(column, kith_sql_string(alternatives | join('|')), 'i')) -%}
        {%- endif -%}
        {%- for pattern in rules.format -%}
            {%- do checks.append("not " ~ kith_regexp_matches(column, kith_sql_string(pattern), 'i')) -%}
        {%- endfor -%}
        coalesce(
            {%- if checks %}
            ({{ column }} is not null and ({{ checks | join(' or ') }}))
            {%- else %}
            false
            {%- endif %}
            {%- if raw_column is not none %}
            or ({{ column }} is null and {{ squish_whitespace(raw_column) }} is not null)
            {%- endif %},
            false
        )
    {%- endif -%}
{%- endmacro %}


{#- Rules of the loaded seed for one identifier type (and type `any`), as
    {'exact': [...], 'pattern': [...], 'format': [...]}. Reads the seed's table in the warehouse,
    not through ref(): in unit tests ref() is a fixture CTE and `graph` is empty, so there the
    relation is rebuilt from the seed schema of dbt_project.yml (`seeds`); unit tests list the
    seed as an input without rows to satisfy the ref. -#}
{% macro identifier_junk_rules(identifier_type) -%}
    {%- set relation = identifier_junk_rules_relation() -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error(
            "is_junk_identifier: the seed identifier_junk_rules is not loaded in the warehouse; "
            ~ "run `dbt seed` (or build the seed first)"
        ) }}
    {%- endif -%}
    {%- set query -%}
        select rule_type, rule_value
        from {{ relation }}
        where identifier_type in ('{{ identifier_type }}', 'any')
        order by rule_type, rule_value
    {%- endset -%}
    {%- set rules = {'exact': [], 'pattern': [], 'format': []} -%}
    {%- for row in run_query(query).rows -%}
        {%- if row[0] not in rules -%}
            {{ exceptions.raise_compiler_error("identifier_junk_rules: unknown rule_type '" ~ row[0] ~ "'") }}
        {%- endif -%}
        {%- do rules[row[0]].append(row[1]) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}


{#- The loaded identifier_junk_rules table, or none when it is not in the warehouse. -#}
{% macro identifier_junk_rules_relation() -%}
    {%- if graph.nodes is defined -%}
        {%- set seed_node = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'seed')
            | selectattr('name', 'equalto', 'identifier_junk_rules')
            | first -%}
        {%- set location = {'database': seed_node.database, 'schema': seed_node.schema, 'identifier': seed_node.alias} -%}
    {%- else -%}
        {%- set location = {
            'database': target.database,
            'schema': generate_schema_name('seeds', none) | trim,
            'identifier': 'identifier_junk_rules',
        } -%}
    {%- endif -%}
    {{- return(adapter.get_relation(**location)) -}}
{%- endmacro %}
