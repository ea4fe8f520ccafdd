{#- Resolves records to customers through the id map: for each record (keyed by `key_column` in the
    CTE `records`), the identifiers in `candidates` (a list of (identifier_type, column) pairs) are
    tried in order and the first one found in `id_map` (a CTE or relation with identifier_type,
    identifier_value, customer_id) gives the customer. Returns a query with one row per resolved
    record: the key, `customer_id` and `customer_identifier_type`. Records no identifier resolves
    are absent (join with a left join to keep them). -#}
{% macro kith_resolve_customers(records, key_column, candidates, id_map) %}
    with identifier_candidates as (
    {%- for identifier_type, column in candidates %}
        select
            {{ key_column }} as record_key,
            {{ loop.index }} as candidate_rank,
            '{{ identifier_type }}' as identifier_type,
            {{ column }} as identifier_value
        from {{ records }}
        where {{ column }} is not null
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- endfor %}
    )

    {% call kith_qualify(
        "row_number() over (partition by identifier_candidates.record_key order by identifier_candidates.candidate_rank) = 1"
    ) -%}
    select
        identifier_candidates.record_key as {{ key_column }},
        id_map.customer_id,
        identifier_candidates.identifier_type as customer_identifier_type
    from identifier_candidates
    inner join {{ id_map }} as id_map
        on
            identifier_candidates.identifier_type = id_map.identifier_type
            and identifier_candidates.identifier_value = id_map.identifier_value
    {%- endcall %}
{% endmacro %}
