"""Probabilistic matching of person records (kith/identity/probabilistic.py) on a synthetic set.

About 600 people, most with two or three records across CRM, loyalty and shop, with the variants
deterministic resolution misses: an email typo, a nickname, a move (new postcode and address),
missing values. Among them, hard non-matches: people with a common name (same name, other date of
birth and address) and twins (same surname, address, postcode and date of birth, other first name).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from random import Random

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kith.identity import probabilistic
from kith.identity.probabilistic import (
    COMPARISONS,
    MIN_RECORDS,
    as_duckdb_connection,
    match_records,
    settings_document,
    trained_levels,
)

FIRST_NAMES = {
    "robert": "bob", "william": "bill", "katherine": "kate", "elizabeth": "liz", "margaret": "maggie",
    "thomas": "tom", "jennifer": "jen", "michael": "mike", "rebecca": "becky", "daniel": "dan",
    "sophie": None, "grace": None, "oliver": "ollie", "hannah": None, "george": None, "amira": None,
    "lucy": None, "owen": None, "priya": None, "callum": None, "freya": None, "noah": None,
}  # fmt: skip
LAST_NAMES = [
    "smith", "jones", "taylor", "brown", "williams", "wilson", "davies", "evans", "patel", "khan",
    "wright", "walker", "green", "hall", "wood", "clarke", "chen", "nowak", "obrien", "murphy",
    "kelly", "ahmed", "singh", "hughes", "edwards", "turner", "parker", "cooper", "morris", "ward",
]  # fmt: skip
DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "btinternet.com"]
STREETS = ["station road", "church lane", "victoria street", "mill lane", "park avenue", "high street"]
AREAS = ["SW", "M", "B", "LS", "G", "NW", "EC", "W"]


@dataclass(frozen=True)
class Person:
    person_id: int
    first_name: str
    last_name: str
    birth_date: str
    address_line1: str
    postcode: str
    email: str
    phone: str


def _postcode(r: Random) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{r.choice(AREAS)}{r.randint(1, 28)} {r.randint(1, 9)}{r.choice(letters)}{r.choice(letters)}"


def _person(i: int, r: Random, **fixed: str) -> Person:
    first = fixed.get("first_name") or r.choice(sorted(FIRST_NAMES))
    last = fixed.get("last_name") or r.choice(LAST_NAMES)
    return Person(
        person_id=i,
        first_name=first,
        last_name=last,
        birth_date=fixed.get("birth_date") or f"{r.randint(1950, 2004)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
        address_line1=fixed.get("address_line1") or f"{r.randint(1, 200)} {r.choice(STREETS)}",
        postcode=fixed.get("postcode") or _postcode(r),
        email=f"{first}.{last}{i + 100}@{r.choice(DOMAINS)}",
        phone=f"+447{r.randint(100_000_000, 999_999_999)}",
    )


def _typo(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[1]}{local[0]}{local[2:]}@{domain}"  # first two letters swapped


@dataclass
class Dataset:
    rows: list[dict]
    person_of: dict[str, int]
    variant_pairs: dict[str, tuple[str, str]]  # kind -> a true pair that shares no identifier
    distinct_pairs: dict[str, tuple[str, str]]  # kind -> two different people that look alike


def _record(system: str, key: str, p: Person, **overrides: str | None) -> dict:
    anchor = {"crm": "crm_id", "loyalty": "loyalty_number", "shop": "shop_customer_id"}[system]
    entity = {"crm": "contacts", "loyalty": "members", "shop": "customers"}[system]
    row = {
        "record_id": f"{system}.{entity}:{key}",
        "source_system": system,
        "anchor_identifier_type": anchor,
        "anchor_identifier_value": key,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "birth_date": p.birth_date,
        "address_line1": p.address_line1 if system == "crm" else None,
        "postcode": p.postcode,
        "email": p.email,
        "phone": p.phone,
    }
    if system == "shop":
        row["birth_date"] = None
    row.update(overrides)
    return row


def make_dataset(n_people: int = 600, seed: int = 7) -> Dataset:
    r = Random(seed)
    people = [_person(i, r) for i in range(n_people)]
    # look-alikes of person 0 (same name), and twins of person 1 (same surname, address, postcode, birth date)
    people.append(_person(n_people, r, first_name=people[0].first_name, last_name=people[0].last_name))
    twin = people[1]
    other_first = next(n for n in sorted(FIRST_NAMES) if n != twin.first_name and FIRST_NAMES[n] is None)
    people.append(
        _person(
            n_people + 1, r, first_name=other_first, last_name=twin.last_name, birth_date=twin.birth_date,
            address_line1=twin.address_line1, postcode=twin.postcode,
        )
    )  # fmt: skip
    rows: list[dict] = []
    person_of: dict[str, int] = {}

    def add(row: dict, p: Person) -> str:
        rows.append(row)
        person_of[row["record_id"]] = p.person_id
        return row["record_id"]

    variant_pairs: dict[str, tuple[str, str]] = {}
    for p in people:
        if p.person_id >= n_people:  # the look-alikes have a loyalty card only
            add(_record("loyalty", f"L{p.person_id:05d}", p), p)
            continue
        crm = add(_record("crm", f"C{p.person_id:05d}", p), p)
        kind = p.person_id % 6
        nickname = FIRST_NAMES[p.first_name]
        if kind == 0:  # exact duplicate in loyalty
            loyalty = add(_record("loyalty", f"L{p.person_id:05d}", p), p)
        elif kind == 1:  # email typo, no phone, in loyalty
            loyalty = add(_record("loyalty", f"L{p.person_id:05d}", p, email=_typo(p.email), phone=None), p)
            variant_pairs.setdefault("email typo", (crm, loyalty))
        elif kind == 2 and nickname:  # nickname and another email, no phone
            loyalty = add(
                _record("loyalty", f"L{p.person_id:05d}", p, first_name=nickname, phone=None,
                        email=f"{nickname}{p.person_id + 100}@hotmail.com"),
                p,
            )  # fmt: skip
            variant_pairs.setdefault("nickname", (crm, loyalty))
        elif kind == 3:  # moved: new postcode in loyalty, no phone, same mailbox at another provider
            moved = replace(p, postcode=_postcode(r), email=p.email.split("@")[0] + "@protonmail.com")
            loyalty = add(_record("loyalty", f"L{p.person_id:05d}", moved, phone=None), p)
            add(_record("shop", f"S{p.person_id:05d}", p, email=None), p)
            variant_pairs.setdefault("moved", (crm, loyalty))
            continue
        elif kind == 4:  # a shop account without phone
            add(_record("shop", f"S{p.person_id:05d}", p, phone=None), p)
            continue
        else:
            continue  # a single record
        if r.random() < 0.5:
            add(_record("shop", f"S{p.person_id:05d}", p, postcode=None), p)
    distinct_pairs = {
        "same name, other person": (f"crm.contacts:C{0:05d}", f"loyalty.members:L{n_people:05d}"),
        "twins": (f"crm.contacts:C{1:05d}", f"loyalty.members:L{n_people + 1:05d}"),
    }
    return Dataset(rows, person_of, variant_pairs, distinct_pairs)


def load(con: duckdb.DuckDBPyConnection, rows: list[dict], name: str = "person_records") -> str:
    con.register("rows_in", pa.Table.from_pylist(rows))
    con.execute(
        f"create or replace table {name} as select * replace (cast(birth_date as date) as birth_date) from rows_in"
    )
    con.unregister("rows_in")
    return name


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return make_dataset()


@pytest.fixture(scope="module")
def matched(dataset: Dataset, tmp_path_factory: pytest.TempPathFactory):
    con = duckdb.connect()
    table = load(con, dataset.rows)
    model_path = tmp_path_factory.mktemp("splink") / "model.json"
    links, reviews = match_records(con, table, link_threshold=0.99, review_threshold=0.8, seed=3, model_out=model_path)
    return con, links, reviews, json.loads(model_path.read_text())


def _pairs(table: pa.Table) -> set[tuple[str, str]]:
    return set(zip(table["record_id_a"].to_pylist(), table["record_id_b"].to_pylist(), strict=True))


def _ordered(pair: tuple[str, str]) -> tuple[str, str]:
    return (min(pair), max(pair))


def test_variants_without_a_shared_identifier_are_linked(dataset: Dataset, matched) -> None:
    _, links, _, _ = matched
    linked = _pairs(links)
    assert set(dataset.variant_pairs) == {"email typo", "nickname", "moved"}
    for kind, pair in dataset.variant_pairs.items():
        assert _ordered(pair) in linked, kind


def test_links_are_precise_and_find_most_true_pairs(dataset: Dataset, matched) -> None:
    _, links, _, _ = matched
    linked = _pairs(links)
    wrong = [(a, b) for a, b in linked if dataset.person_of[a] != dataset.person_of[b]]
    assert not wrong
    rows = {row["record_id"]: row for row in dataset.rows}

    def more_than_a_name(a: str, b: str) -> bool:
        # a moved member's loyalty record and their old shop account agree on the name alone:
        # linking on that would link every namesake, so those pairs are not expected
        if any(rows[a][c] is not None and rows[a][c] == rows[b][c] for c in ("birth_date", "postcode", "phone")):
            return True
        email_a, email_b = rows[a]["email"], rows[b]["email"]
        if email_a is None or email_b is None:
            return False
        # the same address, a typo (swapping two letters undoes itself) or the same mailbox elsewhere
        return email_b in (email_a, _typo(email_a)) or email_a.split("@")[0] == email_b.split("@")[0]

    by_person: dict[int, list[str]] = {}
    for record_id, person in dataset.person_of.items():
        by_person.setdefault(person, []).append(record_id)
    true_pairs = {(a, b) for ids in by_person.values() for a in ids for b in ids if a < b and more_than_a_name(a, b)}
    assert len(true_pairs) > 600
    assert len(linked & true_pairs) / len(true_pairs) > 0.97


def test_look_alikes_are_not_linked(dataset: Dataset, matched) -> None:
    _, links, _, _ = matched
    linked = _pairs(links)
    for kind, pair in dataset.distinct_pairs.items():
        assert _ordered(pair) not in linked, kind


def test_m_and_u_are_estimated_not_defaults(matched) -> None:
    _, _, _, model = matched
    levels = trained_levels(model)
    assert {level["comparison"] for level in levels} == set(COMPARISONS)
    # the saved model holds only estimated values (Splink's defaults, m = 0.95 for the top level
    # and so on, are not written); a level never observed (among the EM blocks' matches for m,
    # among the random pairs for u) has none
    for comparison in COMPARISONS:
        own = [level for level in levels if level["comparison"] == comparison]
        top = next(level for level in own if isinstance(level["m_probability"], float))
        assert isinstance(top["u_probability"], float), comparison
        assert 0 < top["u_probability"] < top["m_probability"] <= 1, comparison  # agreement is evidence for
        last = own[-1]
        assert last["label"] == "All other comparisons"
        assert 0.9 < last["u_probability"] < 1, comparison  # most random pairs have nothing in common
        if isinstance(last["m_probability"], float):
            assert last["m_probability"] < last["u_probability"], comparison
    assert model["probability_two_random_records_match"] != 0.0001


def test_evidence_names_every_comparison(matched) -> None:
    _, links, reviews, _ = matched
    assert links.schema == reviews.schema
    assert len(links) > 0
    for text in links["evidence"].to_pylist()[:50]:
        evidence = json.loads(text)
        assert list(evidence) == list(COMPARISONS)
        for detail in evidence.values():
            assert set(detail) == {"level", "label", "match_weight"}
            assert isinstance(detail["label"], str) and detail["label"]
    probabilities = links["match_probability"].to_pylist()
    assert min(probabilities) >= 0.99
    for p, conflict in zip(reviews["match_probability"].to_pylist(), reviews["has_conflict"].to_pylist(), strict=True):
        assert 0.8 <= p < 0.99 or (p >= 0.99 and conflict)
    assert not any(links["has_conflict"].to_pylist())
    assert all(a < b for a, b in _pairs(links) | _pairs(reviews))


def test_nickname_level_shows_in_the_evidence(dataset: Dataset, matched) -> None:
    _, links, _, _ = matched
    a, b = _ordered(dataset.variant_pairs["nickname"])
    row = links.filter(pc.and_(pc.equal(links["record_id_a"], a), pc.equal(links["record_id_b"], b)))
    evidence = json.loads(row["evidence"][0].as_py())
    assert evidence["first_name"]["label"] == "Nickname or short form of one name"
    assert evidence["first_name"]["match_weight"] > 0


def test_deterministic_for_a_seed(dataset: Dataset, matched) -> None:
    _, links, reviews, _ = matched
    con = duckdb.connect()
    table = load(con, list(reversed(dataset.rows)), name="records_again")
    links_again, reviews_again = match_records(con, table, link_threshold=0.99, review_threshold=0.8, seed=3)
    assert links_again.equals(links)
    assert reviews_again.equals(reviews)


def test_scratch_tables_are_gone_and_schema_restored(matched) -> None:
    con, _, _, _ = matched
    assert con.execute("select current_database(), current_schema()").fetchone() == ("memory", "main")
    catalogs = con.execute("select database_name from duckdb_databases() where not internal").fetchall()
    assert catalogs == [("memory",)]
    assert [row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()] == ["person_records"]


def test_too_few_records_return_no_pairs(caplog: pytest.LogCaptureFixture) -> None:
    con = duckdb.connect()
    table = load(con, make_dataset(n_people=40).rows)
    assert con.execute(f"select count(*) from {table}").fetchone()[0] < MIN_RECORDS
    with caplog.at_level(logging.WARNING, logger="kith.identity.probabilistic"):
        links, reviews = match_records(con, table, link_threshold=0.99, review_threshold=0.8, seed=1)
    assert len(links) == len(reviews) == 0
    assert links.schema == reviews.schema and "evidence" in links.schema.names
    assert any("probabilistic matching skipped" in message for message in caplog.messages)


def test_bad_input_is_refused_with_a_one_line_reason() -> None:
    con = duckdb.connect()
    con.execute("create table t as select 'x' as record_id")
    with pytest.raises(ValueError, match="lacks the columns") as error:
        match_records(con, "t", link_threshold=0.99, review_threshold=0.8, seed=1)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="thresholds"):
        match_records(con, "t", link_threshold=0.8, review_threshold=0.9, seed=1)


def test_pairs_of_one_per_person_anchors_are_left_out(dataset: Dataset) -> None:
    con = duckdb.connect()
    table = load(con, dataset.rows)
    links, reviews = match_records(
        con, table, link_threshold=0.99, review_threshold=0.8, seed=3, one_per_person=["loyalty_number"]
    )
    for table_ in (links, reviews):
        both = pc.and_(
            pc.equal(table_["anchor_identifier_type_a"], "loyalty_number"),
            pc.equal(table_["anchor_identifier_type_b"], "loyalty_number"),
        )
        assert not pc.any(both).as_py()


def test_settings_file_is_the_code() -> None:
    on_disk = json.loads(probabilistic.SETTINGS_PATH.read_text())
    assert on_disk == json.loads(json.dumps(settings_document())), (
        "splink_settings.json is stale: run `python -m kith.identity.probabilistic`"
    )


def test_dbt_session_is_unwrapped() -> None:
    class Wrapper:
        def __init__(self, inner: object) -> None:
            self._cursor = inner

    con = duckdb.connect()
    assert as_duckdb_connection(Wrapper(Wrapper(con))) is con
    with pytest.raises(TypeError, match="no DuckDB connection"):
        as_duckdb_connection(object())


def test_a_model_the_data_cannot_support_skips_matching_with_a_warning(monkeypatch, caplog) -> None:
    """Splink refuses an m or u of exactly 0 (EM can reach it on some data): no pairs, a warning, no crash."""
    import duckdb

    from kith.identity import probabilistic

    def refuse(*_args, **_kwargs):
        raise ValueError("m_probability value 0.0 is below the minimum allowed value of 1e-300.")

    monkeypatch.setattr(probabilistic, "_train", refuse)
    monkeypatch.setattr(probabilistic, "MIN_RECORDS", 1)
    con = duckdb.connect()
    columns = ", ".join(f"null::varchar as {c}" for c in probabilistic.RECORD_COLUMNS)
    con.execute(f"create table records as select {columns} from range(3)")
    with caplog.at_level("WARNING"):
        links, reviews = probabilistic.match_records(con, "records")
    assert len(links) == 0 and len(reviews) == 0
    assert "could not be estimated" in caplog.text
