"""`kith profile`: one customer from many channels as one person, found by any identifier as typed."""

from __future__ import annotations

import json

import duckdb
import pytest

from kith.profile import explain_not_found, find_customers
from tests.conftest import Sample, run_kith


def _query(sample: Sample, sql: str) -> list[tuple]:
    con = duckdb.connect(str(sample.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def many_channel_customer(built_sample: Sample) -> dict:
    """A known customer with an email, a phone and a loyalty card whose records span 4+ source systems."""
    rows = _query(
        built_sample,
        """
        select d.customer_id, c.email, c.phone_e164, c.loyalty_number, count(distinct u.source_system) as systems
        from marts.dim_customer_identifiers as d
        inner join intermediate.int_identifiers_unioned as u using (identifier_type, identifier_value)
        inner join marts.dim_customers as c on d.customer_id = c.customer_id
        where c.email is not null and c.phone_e164 like '+44%' and c.loyalty_number is not null
        group by all
        having count(distinct u.source_system) >= 4
        order by systems desc, d.customer_id
        limit 1
        """,
    )
    assert rows, "the sample has no customer seen in four systems"
    customer_id, email, phone, loyalty, systems = rows[0]
    return {"customer_id": customer_id, "email": email, "phone": phone, "loyalty": loyalty, "systems": systems}


def _profile_json(sample: Sample, identifier: str) -> dict:
    proc = run_kith(sample.env, "profile", "--json", identifier)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_profile_shows_one_person_across_four_or_more_channels(built_sample: Sample, many_channel_customer) -> None:
    c = many_channel_customer
    # typed as a person would: uppercase, padded
    profile = _profile_json(built_sample, f"  {c['email'].upper()} ")
    assert profile["customer"]["customer_id"] == c["customer_id"]
    assert len(profile["source_systems"]) == c["systems"] >= 4
    orders = _query(
        built_sample,
        f"select count(*) from marts.fct_orders where customer_id = '{c['customer_id']}' and not is_cancelled",
    )[0][0]
    assert profile["order_summary"]["orders"] == orders
    assert {i["identifier_type"] for i in profile["identifiers"]} >= {"email", "phone", "loyalty_number"}


def test_profile_finds_the_same_customer_by_phone_and_loyalty_number_as_typed(
    built_sample: Sample, many_channel_customer
) -> None:
    c = many_channel_customer
    national = "0" + c["phone"][3:6] + " " + c["phone"][6:]  # +447700900123 -> 07700 900123
    spaced_card = " ".join(c["loyalty"][i : i + 4] for i in range(0, len(c["loyalty"]), 4)).lower()
    for typed in (national, spaced_card, c["customer_id"]):
        assert _profile_json(built_sample, typed)["customer"]["customer_id"] == c["customer_id"], typed


def test_profile_layout_names_the_person_and_their_systems(built_sample: Sample, many_channel_customer) -> None:
    proc = run_kith(built_sample.env, "profile", many_channel_customer["customer_id"])
    assert proc.returncode == 0, proc.stderr
    assert many_channel_customer["customer_id"] in proc.stdout
    assert f"{many_channel_customer['systems']} systems" in proc.stdout
    for section in ("identifiers", "consent (now)", "recent orders", "recent touchpoints"):
        assert section in proc.stdout


@pytest.mark.parametrize("typed", ["nobody@nowhere.invalid", "x' or 1=1 --", "cus_0000000000000000"])
def test_unknown_identifier_is_one_clear_line(built_sample: Sample, typed: str) -> None:
    proc = run_kith(built_sample.env, "profile", typed)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no customer found" in lines[0] and "Traceback" not in proc.stderr


def _tiny_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """
        create schema marts; create schema intermediate; create schema functions;
        create macro functions.canonical_email(value) as lower(trim(value));
        create macro functions.normalize_phone_e164(value) as null;
        create macro functions.normalize_loyalty_number(value) as upper(replace(value, ' ', ''));
        create table marts.dim_customers (customer_id varchar);
        create table marts.dim_customer_identifiers
            (identifier_type varchar, identifier_value varchar, customer_id varchar);
        create table intermediate.int_identity_nodes
            (identifier_type varchar, identifier_value varchar, exclusion_reason varchar);
        insert into marts.dim_customers values ('cus_a'), ('cus_b');
        insert into marts.dim_customer_identifiers
            values ('email', 'a@x.test', 'cus_a'), ('loyalty_number', 'L1', 'cus_b');
        insert into intermediate.int_identity_nodes
            values ('email', 'family@x.test', 'shared: links 3 crm_id (at most 1 per customer)');
        """
    )
    return con


def test_find_customers_normalises_and_binds_the_typed_value() -> None:
    con = _tiny_warehouse()
    assert [m.customer_id for m in find_customers(con, " A@X.TEST ")] == ["cus_a"]
    assert [(m.customer_id, m.matched_as) for m in find_customers(con, "l 1")] == [("cus_b", "loyalty_number")]
    assert find_customers(con, "a@x.test' or '1'='1") == []
    assert find_customers(con, "cus_b")[0].customer_id == "cus_b"


def test_a_shared_identifier_is_explained_not_just_missing() -> None:
    con = _tiny_warehouse()
    assert find_customers(con, "family@x.test") == []
    message = explain_not_found(con, "family@x.test")
    assert "identifies nobody on its own" in message and "shared" in message
    assert explain_not_found(con, "who@x.test") == "no customer found for 'who@x.test' (searched as email)"
