"""Pairwise precision/recall arithmetic of the identity evaluation, on hand-counted examples."""

import csv
from pathlib import Path

import duckdb

from kith.identity.evaluate import evaluate_identity, score_cells


def test_perfect_resolution() -> None:
    s = score_cells([("c1", "p1", 3), ("c2", "p2", 2)])
    assert (s["precision"], s["recall"]) == (1.0, 1.0)
    assert s["true_pairs"] == 3 + 1


def test_over_and_under_merging() -> None:
    # customer c1 holds 2 records of p1 and 1 of p2 (over-merged); p1 has one more record in c2
    s = score_cells([("c1", "p1", 2), ("c1", "p2", 1), ("c2", "p1", 1)])
    # predicted pairs: c1 has 3 records -> 3 pairs; c2 -> 0. correct: the p1 pair in c1 -> 1
    # true pairs: p1 has 3 records -> 3 pairs; p2 -> 0
    assert s["predicted_pairs"] == 3 and s["true_pairs"] == 3 and s["correct_pairs"] == 1
    assert s["precision"] == 1 / 3 and s["recall"] == 1 / 3
    assert s["over_merged_customers"] == 1 and s["under_merged_persons"] == 1


def test_singletons_have_no_pairs() -> None:
    s = score_cells([("c1", "p1", 1), ("c2", "p2", 1)])
    assert s["predicted_pairs"] == s["true_pairs"] == 0
    assert (s["precision"], s["recall"]) == (1.0, 1.0)


# A hand-made warehouse with just the tables the evaluation reads. Two people:
#   P1: CRM contact c1 (crm C1, email a@x), loyalty sign-up L1 with a typo in the email (a2@x),
#       web event e1 (cookie k1, logged in as a@x), web event e2 (cookie k2, never logged in).
#       Kith joined C1 and L1 by a probabilistic (Splink) link only.
#   P2: store purchase t1 (card L9), loyalty member L9 (email b@x), ticket h1 (b@x), and two store
#       purchases t2, t3 with the staff default card (blocklisted), which must link nothing.
# Hand counts: true pairs P1 C(4,2)=6 + P2 C(5,2)=10 = 16.
#   Kith: {c1, L1, e1} {e2} {t1, L9, h1} {t2} {t3}: 3 + 3 = 6 pairs, all correct.
#   Evidence oracle: P1 {c1, e1} (share a@x), {L1}, {e2}; P2 {t1, L9, h1}, {t2}, {t3}: 1 + 3 = 4 pairs.
#   Deterministic only: {c1, e1} {L1} ...: 1 + 3 = 4 correct pairs.
_NODES = [
    (0, "crm_id", "C1", "K1"),
    (1, "email", "a@x", "K1"),
    (2, "cookie_id", "k1", "K1"),
    (3, "loyalty_number", "L1", "K1"),
    (4, "email", "a2@x", "K1"),
    (5, "cookie_id", "k2", "K3"),
    (6, "loyalty_number", "L9", "K2"),
    (7, "email", "b@x", "K2"),
]
_RECORD_IDENTIFIERS = [
    ("crm.contacts:c1", "crm", "contacts", "crm_id", "C1"),
    ("crm.contacts:c1", "crm", "contacts", "email", "a@x"),
    ("loyalty.members:L1", "loyalty", "members", "loyalty_number", "L1"),
    ("loyalty.members:L1", "loyalty", "members", "email", "a2@x"),
    ("pos.transactions:t1", "pos", "transactions", "loyalty_number", "L9"),
    ("loyalty.members:L9", "loyalty", "members", "loyalty_number", "L9"),
    ("loyalty.members:L9", "loyalty", "members", "email", "b@x"),
    ("helpdesk.tickets:h1", "helpdesk", "tickets", "email", "b@x"),
    ("pos.transactions:t2", "pos", "transactions", "loyalty_number", "0000000000"),
    ("pos.transactions:t3", "pos", "transactions", "loyalty_number", "0000000000"),
]
_TRUTH = [
    ("crm", "contacts", "c1", "P1"),
    ("loyalty", "members", "L1", "P1"),
    ("web", "events", "e1", "P1"),
    ("web", "events", "e2", "P1"),
    ("pos", "transactions", "t1", "P2"),
    ("loyalty", "members", "L9", "P2"),
    ("helpdesk", "tickets", "h1", "P2"),
    ("pos", "transactions", "t2", "P2"),
    ("pos", "transactions", "t3", "P2"),
]


def _hand_made_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    for schema in ("seeds", "marts", "intermediate", "staging"):
        con.execute(f"create schema {schema}")
    con.execute("create table seeds.identity_rules (identifier_type varchar, priority int)")
    con.executemany(
        "insert into seeds.identity_rules values (?, ?)",
        [("crm_id", 1), ("loyalty_number", 2), ("shop_customer_id", 3), ("email", 4), ("cookie_id", 8)],
    )
    con.execute(
        "create table seeds.identity_blocklist as select 'loyalty_number' as identifier_type, "
        "'0000000000' as identifier_value"
    )
    con.execute(
        "create table intermediate.int_customer_ids_assigned "
        "(node_id bigint, identifier_type varchar, identifier_value varchar, customer_id varchar)"
    )
    con.executemany("insert into intermediate.int_customer_ids_assigned values (?, ?, ?, ?)", _NODES)
    con.execute(
        "create table marts.dim_customer_identifiers as "
        "select identifier_type, identifier_value, customer_id from intermediate.int_customer_ids_assigned"
    )
    con.execute(
        "create table intermediate.int_identity_edges_numbered "
        "(node_id_a bigint, node_id_b bigint, link_source varchar)"
    )
    con.executemany(
        "insert into intermediate.int_identity_edges_numbered values (?, ?, ?)",
        [
            (0, 1, "deterministic"),
            (1, 2, "deterministic"),
            (3, 4, "deterministic"),
            (0, 3, "probabilistic"),
            (6, 7, "deterministic"),
        ],
    )
    con.execute(
        "create table intermediate.int_identity_probabilistic_matches as select "
        "'crm.contacts:c1' as record_id_a, 'loyalty.members:L1' as record_id_b, 'link' as decision"
    )
    con.execute(
        "create table intermediate.int_identifiers_unioned (record_id varchar, source_system varchar, "
        "source_entity varchar, identifier_type varchar, identifier_value varchar, is_junk boolean)"
    )
    con.executemany(
        "insert into intermediate.int_identifiers_unioned values (?, ?, ?, ?, ?, false)", _RECORD_IDENTIFIERS
    )
    con.execute(
        "create table staging.stg_web__events (event_id varchar, anonymous_id varchar, shop_customer_id varchar, "
        "canonical_email varchar, is_email_junk boolean)"
    )
    con.execute(
        "insert into staging.stg_web__events values ('e1', 'k1', null, 'a@x', false), ('e2', 'k2', null, null, false)"
    )
    con.execute("create table staging.stg_app__events (event_id varchar, device_id varchar, shop_customer_id varchar)")
    con.close()


def test_linkable_and_deterministic_recall_on_a_hand_made_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "kith.duckdb"
    _hand_made_warehouse(warehouse)
    truth = tmp_path / "truth"
    truth.mkdir()
    with (truth / "records.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["system", "entity", "record_id", "person_id"])
        writer.writerows(_TRUTH)

    score = evaluate_identity(warehouse, truth)

    assert score.records == 9 and score.true_pairs == 16
    assert (score.predicted_pairs, score.correct_pairs) == (6, 6)
    assert score.precision == 1.0 and score.recall == 6 / 16
    # the oracle: c1-e1 share a@x; t1, L9, h1 share L9 and b@x; the blocklisted card links t2, t3 to nothing
    assert score.linkable_pairs == 4
    assert score.linkable_recall == 1.0
    # without the Splink link, L1 stands alone: the two pairs it made with c1 and e1 are lost
    assert score.deterministic_recall == 4 / 16 and score.deterministic_precision == 1.0
    assert score.deterministic_linkable_recall == 1.0
    assert score.probabilistic_links == 1 and score.probabilistic_link_precision == 1.0
    assert any("linkable" in line for line in score.lines())
