"""Stable customer ids over consecutive builds: new data, a merge (older id survives), a split
(logged), and a rerun that changes nothing. Real ingest + dbt builds on hand-made exports."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_kith

CRM_HEADER = "crm_id,first_name,last_name,email,created_at,updated_at\n"


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _shop(shop_id: str, email: str, created: str) -> str:
    return json.dumps({"shop_customer_id": shop_id, "email": email, "created_at": created, "updated_at": created})


class Scenario:
    def __init__(self, root: Path) -> None:
        self.landing = root / "landing"
        self.warehouse = root / "warehouse" / "kith.duckdb"
        self.env = {
            "KITH_LANDING": str(self.landing),
            "KITH_WAREHOUSE": str(self.warehouse),
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
        }

    def build(self) -> None:
        proc = run_kith(self.env, "ingest")
        assert proc.returncode == 0, proc.stderr
        proc = run_kith(
            self.env,
            "build",
            "--select",
            "+fct_customer_id_changes",
            "+snap_customer_profiles",
            "+snap_customer_consents",
            "--exclude",
            "test_type:unit",
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    def ids(self) -> dict[tuple[str, str], str]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            rows = con.execute(
                "select identifier_type, identifier_value, customer_id from marts.dim_customer_identifiers"
            ).fetchall()
        finally:
            con.close()
        return {(t, v): c for t, v, c in rows}

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def changes(self) -> list[tuple[str, str, str]]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(
                "select change_type, previous_customer_id, customer_id from marts.fct_customer_id_changes "
                "order by changed_at, change_type"
            ).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario(tmp_path_factory.mktemp("stable_ids"))


def test_ids_are_stable_merges_keep_the_older_id_and_splits_are_logged(scenario: Scenario) -> None:
    s = scenario
    # build 1: two CRM contacts; Alice also has a shop account; Carol only a shop account (older)
    _write(
        s.landing,
        "crm/contacts/2026-01-01.csv",
        CRM_HEADER
        + "C1,Alice,Ames,alice@example.org,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z\n"
        + "C2,Bob,Bell,bob@example.org,2026-01-01T11:00:00Z,2026-01-01T11:00:00Z\n",
    )
    _write(
        s.landing,
        "shop/customers/2026-01-01.jsonl",
        _shop("S1", "Alice@Example.org ", "2026-01-01T12:00:00Z")
        + "\n"
        + _shop("S2", "carol@example.org", "2025-06-01T09:00:00Z")
        + "\n",
    )
    s.build()
    first = s.ids()
    alice, bob, carol = first[("crm_id", "C1")], first[("crm_id", "C2")], first[("shop_customer_id", "S2")]
    assert first[("shop_customer_id", "S1")] == alice  # linked through the normalised email
    assert len({alice, bob, carol}) == 3
    assert s.changes() == []

    # build 2: nothing new -> nothing changes
    s.build()
    assert s.ids() == first
    assert s.changes() == []

    # build 3: a consent event ties Bob's CRM contact to Carol's email: they merge and Carol's
    # older id (first seen 2025-06-01) survives; Alice is untouched
    _write(
        s.landing,
        "consent/events/2026-01-03.jsonl",
        json.dumps(
            {
                "consent_event_id": "K1",
                "subject": {"crm_id": "C2", "email": "carol@example.org"},
                "channel": "email",
                "purpose": "marketing",
                "status": "granted",
                "occurred_at": "2026-01-03T10:00:00Z",
            }
        )
        + "\n",
    )
    s.build()
    third = s.ids()
    assert third[("crm_id", "C2")] == third[("email", "bob@example.org")] == carol
    assert bob not in third.values()
    assert {k: v for k, v in third.items() if v == alice} == {k: v for k, v in first.items() if v == alice}
    assert ("merge", bob, carol) in s.changes()

    # build 4: Alice's CRM contact changes its email: the link to her shop account disappears,
    # one side keeps her id, the other gets a new one, and the split is logged
    _write(
        s.landing,
        "crm/contacts/2026-01-04.csv",
        CRM_HEADER + "C1,Alice,Ames,alice.new@example.org,2026-01-01T10:00:00Z,2026-01-04T10:00:00Z\n",
    )
    s.build()
    fourth = s.ids()
    sides = {fourth[("crm_id", "C1")], fourth[("shop_customer_id", "S1")]}
    assert len(sides) == 2 and alice in sides
    splits = [c for c in s.changes() if c[0] == "split"]
    assert len(splits) == 1 and splits[0][1] == alice and splits[0][2] in sides - {alice}
    # customers not involved keep their ids
    assert fourth[("shop_customer_id", "S2")] == carol


OVERLAPS = """
    select count(*)
    from {table} as a
    inner join {table} as b
        on {same_key} and a.dbt_scd_id <> b.dbt_scd_id
        and a.dbt_valid_from < coalesce(b.dbt_valid_to, 'infinity'::timestamp)
        and b.dbt_valid_from < coalesce(a.dbt_valid_to, 'infinity'::timestamp)
"""


def test_profile_and_consent_history_is_kept_without_overlaps(scenario: Scenario) -> None:
    """Runs after the id test (same module scenario): four builds with a merge and a split."""
    s = scenario
    ids = s.ids()
    carol = ids[("shop_customer_id", "S2")]
    bob = next(prev for kind, prev, _ in s.changes() if kind == "merge")
    assert bob not in ids.values()

    # the merged-away customer's profile history is closed; Carol's shows the merge as a new
    # version whose name now comes from the CRM contact that joined her (CRM outranks shop)
    bob_versions = s.query(f"select dbt_valid_to from snapshots.snap_customer_profiles where customer_id = '{bob}'")
    assert bob_versions and all(valid_to is not None for (valid_to,) in bob_versions)
    carol_versions = s.query(
        "select first_name, name_source, dbt_valid_from, dbt_valid_to from snapshots.snap_customer_profiles "
        f"where customer_id = '{carol}' order by dbt_valid_from"
    )
    assert len(carol_versions) >= 2
    assert carol_versions[0][0] is None and carol_versions[-1][:2] == ("Bob", "crm")
    assert carol_versions[-1][3] is None
    for earlier, later in itertools.pairwise(carol_versions):
        assert earlier[3] == later[2]  # each version ends where the next begins

    # the consent event of build 3 is Carol's now, and granted
    consents = s.query(
        "select consent_channel, consent_purpose, is_granted from snapshots.snap_customer_consents "
        f"where customer_id = '{carol}' and dbt_valid_to is null"
    )
    assert consents == [("email", "marketing", True)]

    # no two versions of one key overlap in time, in either history
    profiles = OVERLAPS.format(table="snapshots.snap_customer_profiles", same_key="a.customer_id = b.customer_id")
    consent = OVERLAPS.format(
        table="snapshots.snap_customer_consents",
        same_key="a.customer_id = b.customer_id and a.consent_channel = b.consent_channel "
        "and a.consent_purpose = b.consent_purpose",
    )
    assert s.query(profiles) == [(0,)]
    assert s.query(consent) == [(0,)]
