{#- The mailbox an email address delivers to, for linking: normalize_email() plus the alias rules
    of the big consumer providers (see macros/_macros.yml for the sources of each rule).
    - gmail.com, googlemail.com: dots in the local part are ignored, `+tag` is dropped and
      googlemail.com is the same mailbox as gmail.com.
    - providers with plus addressing (Outlook.com/Hotmail/Live/MSN, iCloud, Proton, Fastmail):
      `+tag` is dropped; dots are significant there and are kept.
    - every other domain (Yahoo, AOL, GMX, ISPs, companies): unchanged, because the provider does
      not document that the `+tag` goes to the same mailbox (Yahoo's `-keyword` disposable
      addresses hang off a separate base name, so they cannot be folded either).
    An address that is not exactly one `local@domain` is returned normalised and unfolded. -#}
{% macro canonical_email(column) -%}
    {%- set gmail_domains = ['gmail.com', 'googlemail.com'] -%}
    {%- set plus_tag_domains = [
        'outlook.com', 'outlook.co.uk', 'outlook.fr', 'outlook.de', 'outlook.ie',
        'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de',
        'live.com', 'live.co.uk', 'live.fr', 'live.de', 'live.ie', 'msn.com',
        'icloud.com', 'me.com', 'mac.com',
        'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me',
        'fastmail.com', 'fastmail.fm',
    ] -%}
    {%- set email = normalize_email(column) -%}
    {%- set local_part = "regexp_extract(" ~ email ~ ", '^([^@]+)@', 1)" -%}
    {%- set domain = "regexp_extract(" ~ email ~ ", '@([^@]+)$', 1)" -%}
    {%- set local_without_tag = kith_regexp_replace(local_part, "'[+].*$'", "''", all_matches=false) -%}
    case
        when not {{ kith_regexp_matches(email, "'^[^@]+@[^@]+$'") }} then {{ email }}
        when {{ domain }} in ('{{ gmail_domains | join("', '") }}')
            then coalesce(nullif(replace({{ local_without_tag }}, '.', ''), '') || '@gmail.com', {{ email }})
        when {{ domain }} in ('{{ plus_tag_domains | join("', '") }}')
            then coalesce(nullif({{ local_without_tag }}, '') || '@' || {{ domain }}, {{ email }})
        else {{ email }}
    end
{%- endmacro %}
