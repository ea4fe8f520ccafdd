"""Erasure in activation: every destination that holds the person gets a remove at the next sync, the
remove carries only the identifiers the destination is keyed by, and once it is acknowledged no trace
of the person is left in the activation schema (state, outbox, control-group assignments).

Uses the activation tests' hand-built warehouse (no dbt): an audience, consent, a CSV file destination
and an ad platform that receives hashed identifiers.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from kith.privacy.activation import queue_removals
from tests.activation.conftest import SYNC_AT, Setup, Warehouse, file_changes, file_destination, person, replay

FORGOTTEN = "c003"


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    crm = tmp_path / "crm.db"
    monkeypatch.setenv("KITH_TEST_CRM_URL", f"sqlite:///{crm}")
    return Setup(tmp_path, Warehouse(tmp_path / "kith.duckdb"), tmp_path / "activation.yml", tmp_path / "reports", crm)


def _erase(warehouse: Warehouse, customer_id: str) -> dict[str, int]:
    """What kith forget does in the activation schema (and to the audience mart, via its sweep)."""
    con = duckdb.connect(str(warehouse.path))
    try:
        con.execute("create temp table _forget_customers as select ? as customer_id", [customer_id])
        con.execute("begin transaction")
        counts = queue_removals(con, "e" * 32, SYNC_AT)
        con.execute("delete from marts.aud_winback where customer_id = ?", [customer_id])
        con.execute("commit")
    finally:
        con.close()
    return counts


def _traces(warehouse: Warehouse, customer_id: str) -> dict[str, list[tuple]]:
    return {
        table: warehouse.query(f"select * from activation.{table} where customer_id = ?", [customer_id])
        for table in ("sync_state", "sync_outbox", "audience_assignments")
    }


def test_an_erased_customer_is_removed_everywhere_and_leaves_no_trace(setup: Setup) -> None:
    wh = setup.warehouse
    wh.audience("winback", [person(i) for i in range(1, 6)])
    wh.grant_all([wh.consent(i, channel) for i in range(1, 6) for channel in ("email", "ads")])
    wh.grant_all([Warehouse.consent(i, "ads", "profiling") for i in range(1, 6)])
    setup.write_config(
        [
            file_destination(setup),
            file_destination(
                setup,
                "ad_platform",
                consent={"channel": "ads", "purpose": "profiling"},
                identifiers=["email", "phone_e164"],
                hash_identifiers=True,
            ),
        ]
    )
    setup.sync(SYNC_AT)
    assert FORGOTTEN in replay(file_changes(setup.exports("email_files", "winback")))
    stored = _traces(wh, FORGOTTEN)
    assert len(stored["sync_state"]) == 2 and stored["audience_assignments"]

    counts = _erase(wh, FORGOTTEN)
    assert counts == {"sync_state": 2, "sync_outbox": 2, "audience_assignments": 1}
    queued = wh.query(
        "select destination, change_type, payload from activation.sync_outbox where customer_id = ?", [FORGOTTEN]
    )
    assert {d for d, _, _ in queued} == {"email_files", "ad_platform"}
    payloads = {d: json.loads(p) for d, change, p in queued if change == "remove"}
    # only what each destination is keyed by: no attribute (lifetime value, last order date, reason)
    assert set(payloads["email_files"]) == {"customer_id", "email"}
    assert set(payloads["ad_platform"]) == {"customer_id", "email_sha256", "phone_sha256"}

    report = setup.sync(SYNC_AT + timedelta(hours=1))
    assert not report.failed
    for destination in ("email_files", "ad_platform"):
        rows = file_changes(setup.exports(destination, "winback"))
        (removal,) = [r for r in rows if r["customer_id"] == FORGOTTEN and r["kith_change"] == "remove"]
        assert removal.get("lifetime_value") is None and removal.get("audience_reason") is None
        assert FORGOTTEN not in replay(rows)
        others = {r["customer_id"] for r in rows if r["kith_change"] == "remove"}
        assert others == {FORGOTTEN}  # nobody else was removed
    hashed = [r for r in file_changes(setup.exports("ad_platform", "winback")) if r["customer_id"] == FORGOTTEN]
    assert hashed[-1]["email_sha256"] == hashed[0]["email_sha256"]  # the remove names the same hashed person
    assert _traces(wh, FORGOTTEN) == {"sync_state": [], "sync_outbox": [], "audience_assignments": []}
    # and the next sync sends nothing about them again
    setup.sync(SYNC_AT + timedelta(hours=2))
    later = file_changes(setup.exports("email_files", "winback"))
    assert [r for r in later if r["customer_id"] == FORGOTTEN][-1]["kith_change"] == "remove"
    assert len([r for r in later if r["customer_id"] == FORGOTTEN]) == 2  # one add, one remove


def test_an_unacknowledged_change_is_replaced_by_a_remove(setup: Setup) -> None:
    """A change planned but never acknowledged may have been applied: the person is removed anyway."""
    wh = setup.warehouse
    wh.audience("winback", [person(i) for i in range(1, 4)])
    wh.grant_all([wh.consent(i, "email") for i in range(1, 4)])
    setup.write_config([file_destination(setup)])
    setup.sync(SYNC_AT, dry_run=False)
    # a later change to the person, planned into the outbox but never delivered
    con = duckdb.connect(str(wh.path))
    try:
        con.execute(
            """
            insert into activation.sync_outbox
            select audience, destination, customer_id, 'update', 'x', payload, 'k', 's', now()::timestamp
            from activation.sync_state where customer_id = ?
            """,
            [FORGOTTEN],
        )
        con.execute("delete from activation.sync_state where customer_id = ?", [FORGOTTEN])
    finally:
        con.close()
    _erase(wh, FORGOTTEN)
    ((change,),) = wh.query("select change_type from activation.sync_outbox where customer_id = ?", [FORGOTTEN])
    assert change == "remove"
    setup.sync(SYNC_AT + timedelta(hours=1))
    assert FORGOTTEN not in replay(file_changes(setup.exports("email_files", "winback")))
    assert _traces(wh, FORGOTTEN) == {"sync_state": [], "sync_outbox": [], "audience_assignments": []}
