{#- Phone number in any format -> E.164 (`+447700900123`), or null when it cannot be one.

    1. Keep the digits; a leading `+` or the `00` international prefix (`011` for US) marks a
       number that already carries its country calling code.
    2. Otherwise the number is national to the row's country (`country_column`, else
       `default_country`): `0`-trunk form (`07700 900123`), calling code without `+`
       (`447700900123`) or national number without its trunk prefix (`7700900123`).
    3. A `0` written after the calling code (`+44 (0)7700 900123`) is dropped.
    4. Numbers of the countries in phone_country_rules() must have a valid national number
       (first digit and length); other countries only a plausible E.164 length (8-15 digits).
    Extensions, vanity letters and numbers of unknown countries written nationally give null. -#}
{% macro normalize_phone_e164(column, default_country=var('kith__default_country'), country_column=none) -%}
    {%- set rules = phone_country_rules() -%}
    {%- set default_country = default_country | upper -%}
    {%- if default_country not in rules -%}
        {{ exceptions.raise_compiler_error(
            "normalize_phone_e164: default_country '" ~ default_country ~ "' has no entry in phone_country_rules() ("
            ~ rules.keys() | join(', ') ~ ")"
        ) }}
    {%- endif -%}
    {%- set digits_value = kith_regexp_replace(column, "'[^0-9]'", "''") -%}
    {%- set digits = kith_let_name('phone_digits', digits_value) -%}
    {%- set calling_codes = [] -%}
    {%- set trunk_zero_codes = [] -%}
    {%- set valid_numbers = [] -%}
    {%- for rule in rules.values() -%}
        {%- do calling_codes.append(rule.calling_code) -%}
        {%- if rule.trunk_prefix == '0' -%}{%- do trunk_zero_codes.append(rule.calling_code) -%}{%- endif -%}
        {%- do valid_numbers.append(rule.calling_code ~ '(?:' ~ rule.national_pattern ~ ')') -%}
    {%- endfor -%}
    {%- set international -%}
        case
            when {{ trim_whitespace(column) }} like '+%' then {{ digits }}
            when {{ digits }} like '00%' then substr({{ digits }}, 3)
            {%- if country_column is none %}
            else {{ phone_national_to_international(digits, rules[default_country]) }}
            {%- else %}
            else
                case coalesce(nullif(upper(trim({{ country_column }})), ''), '{{ default_country }}')
                    {%- for country, rule in rules.items() %}
                    when '{{ country }}' then {{ phone_national_to_international(digits, rule) }}
                    {%- endfor %}
                end
            {%- endif %}
        end
    {%- endset -%}
    {%- set e164_value = kith_regexp_replace(
        international, "'^(" ~ trunk_zero_codes | join('|') ~ ")0'", "'\\1'", all_matches=false
    ) -%}
    {%- set e164_digits = kith_let_name('phone_e164_digits', e164_value) -%}
    {%- set normalized -%}
    case
        when {{ kith_regexp_matches(e164_digits, "'^(?:" ~ valid_numbers | join("|") ~ ")$'") }} then '+' || {{ e164_digits }}
        when {{ kith_regexp_matches(e164_digits, "'^(?:" ~ calling_codes | join("|") ~ ")'") }} then null
        when {{ kith_regexp_matches(e164_digits, "'^[1-9][0-9]{7,14}$'") }} then '+' || {{ e164_digits }}
    end
    {%- endset -%}
    {{ kith_let('phone_digits', digits_value, kith_let('phone_e164_digits', e164_value, normalized)) }}
{%- endmacro %}


{#- National digits of one country -> international digits without `+` (null when they do not fit). -#}
{% macro phone_national_to_international(digits, rule) -%}
    case
        {%- if rule.exit_prefix != '00' %}
        when {{ digits }} like '{{ rule.exit_prefix }}%' then substr({{ digits }}, {{ rule.exit_prefix | length + 1 }})
        {%- endif %}
        when {{ kith_regexp_matches(digits, "'^" ~ rule.trunk_prefix ~ "(?:" ~ rule.national_pattern ~ ")$'") }}
            then '{{ rule.calling_code }}' || substr({{ digits }}, {{ rule.trunk_prefix | length + 1 }})
        when {{ kith_regexp_matches(digits, "'^" ~ rule.calling_code ~ "(?:" ~ rule.national_pattern ~ ")$'") }} then {{ digits }}
        when {{ kith_regexp_matches(digits, "'^(?:" ~ rule.national_pattern ~ ")$'") }} then '{{ rule.calling_code }}' || {{ digits }}
    end
{%- endmacro %}


{#- Numbering plans known to normalize_phone_e164(). national_pattern = the national significant
    number (without trunk prefix): first digit and length. Sources: ITU-T E.164 assignments, Ofcom
    (GB), ComReg (IE), ARCEP (FR), BNetzA (DE), NANPA (US). -#}
{% macro phone_country_rules() -%}
    {{ return({
        'GB': {'calling_code': '44', 'trunk_prefix': '0', 'exit_prefix': '00', 'national_pattern': '[1235789][0-9]{8,9}'},
        'IE': {'calling_code': '353', 'trunk_prefix': '0', 'exit_prefix': '00', 'national_pattern': '[1-9][0-9]{6,8}'},
        'FR': {'calling_code': '33', 'trunk_prefix': '0', 'exit_prefix': '00', 'national_pattern': '[1-9][0-9]{8}'},
        'DE': {'calling_code': '49', 'trunk_prefix': '0', 'exit_prefix': '00', 'national_pattern': '[1-9][0-9]{5,12}'},
        'US': {'calling_code': '1', 'trunk_prefix': '1', 'exit_prefix': '011', 'national_pattern': '[2-9][0-9]{9}'},
    }) }}
{%- endmacro %}
