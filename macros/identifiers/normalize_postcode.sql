{#- Postcode as typed -> uppercase, whitespace removed, then formatted:
    - UK postcodes (outward code + inward code `9AA`): one space before the inward code (`SW1A 1AA`);
    - Irish Eircodes (routing key + unique identifier): one space after the routing key (`D02 X285`);
    - anything else: uppercase with whitespace collapsed to single spaces (`75001`, `10115`).
    Null when empty. Validity beyond the shape is not checked (junk rules flag placeholders). -#}
{% macro normalize_postcode(column) -%}
    {%- set compact -%}upper({{ kith_regexp_replace(column, "'[\\s\\p{Z}]+'", "''") }}){%- endset -%}
    case
        when {{ kith_regexp_matches(compact, "'^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$'") }}
            then {{ kith_regexp_replace(compact, "'^(.+)([0-9][A-Z]{2})$'", "'\\1 \\2'", all_matches=false) }}
        when {{ kith_regexp_matches(compact, "'^(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W)[0-9AC-FHKNPRTV-Y]{4}$'") }}
            then substr({{ compact }}, 1, 3) || ' ' || substr({{ compact }}, 4)
        else upper({{ squish_whitespace(column) }})
    end
{%- endmacro %}
