"""The issue's five scenarios, for every kind of destination (CSV files, Parquet files, HTTP, a SQLite
database), all four synced side by side in each sync:

1. a first sync sends everything;
2. a second sync with no change sends nothing;
3. a change sends exactly the difference;
4. a failure mid-sync, then a rerun, ends with the destination exactly equal to the audience;
5. a consent withdrawal removes the customer (at the first sync after the withdrawal, not before).

Who may receive what is worked out here from the fixture's own consent periods, not by the engine.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import (
    SYNC_AT,
    FakeTool,
    Setup,
    database_destination,
    database_members,
    file_changes,
    file_destination,
    http_destination,
    money,
    person,
    replay,
    result,
)

AUDIENCES = ("vip", "winback")
HOUR = timedelta(hours=1)


@dataclass
class Kind:
    """One destination under test: how to read what it holds and what it was sent, how to break it."""

    name: str
    setup: Setup
    tool: FakeTool
    channel: str
    identifiers: tuple[str, ...]

    def members(self, audience: str) -> dict[str, dict]:
        if self.name in ("csv_files", "parquet_files"):
            return replay(file_changes(self.setup.exports(self.name, audience)))
        if self.name == "sms_tool":
            return self.tool.state(self.name, audience)
        return database_members(self.setup.crm, f"aud_{audience}")

    def mark(self) -> Any:
        if self.name in ("csv_files", "parquet_files"):
            return {a: len(file_changes(self.setup.exports(self.name, a))) for a in AUDIENCES}
        if self.name == "sms_tool":
            return len(self.tool.requests)
        return {a: self.members(a) for a in AUDIENCES}, self.loads()

    def loads(self) -> int:
        with sqlite3.connect(self.setup.crm) as con:
            return con.execute("select count(*) from _dlt_loads").fetchone()[0]

    def sent_since(self, mark: Any, audience: str) -> set[tuple[str, str]]:
        """(change, customer_id) delivered since the mark; the database shows upserts and removes."""
        if self.name in ("csv_files", "parquet_files"):
            rows = file_changes(self.setup.exports(self.name, audience))[mark[audience] :]
            return {(r["kith_change"], r["customer_id"]) for r in rows}
        if self.name == "sms_tool":
            return {
                (c["change"], c["customer_id"])
                for r in self.tool.requests[mark:]
                if r["body"]["audience"] == audience
                for c in r["body"]["changes"]
            }
        before, now = mark[0][audience], self.members(audience)
        upserts = {("upsert", c) for c, row in now.items() if row != before.get(c)}
        return upserts | {("remove", c) for c in before.keys() - now.keys()}

    def expect_sent(self, changes: set[tuple[str, str]]) -> set[tuple[str, str]]:
        if self.name == "crm":
            return {("remove" if ch == "remove" else "upsert", c) for ch, c in changes}
        return changes

    def break_(self) -> None:
        """Make the destination fail for the winback audience (HTTP: after its first batch, for both)."""
        if self.name in ("csv_files", "parquet_files"):
            folder = self.setup.exports(self.name, "winback")
            folder.rename(folder.with_name("winback.moved"))
            folder.write_text("a file where the audience folder should be")
        elif self.name == "sms_tool":
            self.tool.fail_from = len(self.tool.requests) + 2
        else:
            with sqlite3.connect(self.setup.crm) as con:
                con.execute(
                    "create trigger boom before insert on aud_winback "
                    "begin select raise(abort, 'injected failure'); end"
                )

    def repair(self) -> None:
        if self.name in ("csv_files", "parquet_files"):
            folder = self.setup.exports(self.name, "winback")
            folder.unlink()
            shutil.move(folder.with_name("winback.moved"), folder)
        elif self.name == "sms_tool":
            self.tool.fail_from = None
        else:
            with sqlite3.connect(self.setup.crm) as con:
                con.execute("drop trigger boom")


@pytest.fixture()
def kinds(setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch) -> list[Kind]:
    """Two audiences; email consent for customers not divisible by 4, sms for those not divisible by 3."""
    setup.warehouse.audience("winback", [person(i) for i in range(1, 25)])
    setup.warehouse.audience("vip", [person(i, "top spender") for i in range(15, 33)])
    consent = setup.warehouse.consent
    setup.warehouse.grant_all(
        [consent(i, "email") for i in range(1, 40) if i % 4] + [consent(i, "sms") for i in range(1, 40) if i % 3]
    )
    setup.write_config(
        [
            file_destination(setup, "csv_files", "csv"),
            file_destination(setup, "parquet_files", "parquet"),
            http_destination(fake_tool, monkeypatch, batch_size=2),
            database_destination(identifiers=["email", "phone_e164"]),
        ]
    )
    return [
        Kind("csv_files", setup, fake_tool, "email", ("email",)),
        Kind("parquet_files", setup, fake_tool, "email", ("email",)),
        Kind("sms_tool", setup, fake_tool, "sms", ("phone_e164",)),
        Kind("crm", setup, fake_tool, "email", ("email", "phone_e164")),
    ]


def audience_rows(setup: Setup, audience: str) -> list[dict[str, Any]]:
    columns = ["customer_id", "email", "phone_e164", "audience_reason", "lifetime_value"]
    return [
        dict(zip(columns, row, strict=True))
        for row in setup.warehouse.query(f"select {', '.join(columns)} from marts.aud_{audience}")
    ]


def expected(kind: Kind, audience: str, at: datetime) -> dict[str, dict]:
    """Members with the destination's consent granted at `at` and one of its identifiers present."""
    return {
        r["customer_id"]: r
        for r in audience_rows(kind.setup, audience)
        if kind.setup.warehouse.consented(r["customer_id"], kind.channel, "marketing", at)
        and any(r[i] for i in kind.identifiers)
    }


def assert_equal_to_audience(kind: Kind, at: datetime) -> None:
    for audience in AUDIENCES:
        want, have = expected(kind, audience, at), kind.members(audience)
        assert sorted(have) == sorted(want), f"{kind.name}/{audience}: members differ"
        for customer_id, row in want.items():
            got = have[customer_id]
            for identifier in kind.identifiers:
                assert got[identifier] == row[identifier], (kind.name, customer_id, identifier)
            assert money(got["lifetime_value"]) == money(row["lifetime_value"]), (kind.name, customer_id)
            assert got["audience_reason"] == row["audience_reason"], (kind.name, customer_id)


def assert_all(report: Any, status: str = "success") -> None:
    assert [(r.destination, r.audience, r.status) for r in report.results if r.status != status] == [], report


def test_first_sync_sends_everything(setup: Setup, kinds: list[Kind]) -> None:
    report = setup.sync()
    assert_all(report)
    for kind in kinds:
        assert_equal_to_audience(kind, SYNC_AT)
        for audience in AUDIENCES:
            r = result(report, audience, kind.name)
            want = len(expected(kind, audience, SYNC_AT))
            assert (r.adds, r.updates, r.removes, r.acknowledged) == (want, 0, 0, want), (kind.name, r)
            assert r.desired == want and r.members == r.desired + r.no_consent + r.no_identifier


def test_second_sync_without_change_sends_nothing(setup: Setup, kinds: list[Kind]) -> None:
    setup.sync()
    marks = {k.name: k.mark() for k in kinds}
    report = setup.sync(SYNC_AT + HOUR)
    assert_all(report)
    assert [r.changes for r in report.results] == [0] * len(report.results)
    for kind in kinds:
        for audience in AUDIENCES:
            assert kind.sent_since(marks[kind.name], audience) == set(), kind.name
        assert_equal_to_audience(kind, SYNC_AT + HOUR)
    assert kinds[3].loads() == marks["crm"][1], "the database got a load although nothing changed"


def test_a_change_sends_exactly_the_difference(setup: Setup, kinds: list[Kind]) -> None:
    setup.sync()
    marks = {k.name: k.mark() for k in kinds}
    rows = [person(i) for i in range(1, 25) if i != 2] + [person(29)]  # c002 leaves, c029 joins
    rows[1]["lifetime_value"] = 999  # c003's attribute changes
    rows[3]["audience_reason"] = "lapsed twice"  # so does c005's reason
    setup.warehouse.audience("winback", rows)
    report = setup.sync(SYNC_AT + HOUR)
    assert_all(report)
    change = {("remove", "c002"), ("add", "c029"), ("update", "c003"), ("update", "c005")}
    for kind in kinds:
        # c002 was sent everywhere; c003 has no sms consent (3 is divisible by 3), so sms gets no update
        reachable = expected(kind, "winback", SYNC_AT + HOUR)
        sent = {(ch, c) for ch, c in change if ch == "remove" or c in reachable}
        assert ("update", "c003") in sent or kind.channel == "sms"
        assert kind.sent_since(marks[kind.name], "winback") == kind.expect_sent(sent), kind.name
        assert kind.sent_since(marks[kind.name], "vip") == set(), kind.name
        r = result(report, "winback", kind.name)
        counts = tuple(sum(ch == want for ch, _ in sent) for want in ("add", "update", "remove"))
        assert (r.adds, r.updates, r.removes) == counts, kind.name
        assert_equal_to_audience(kind, SYNC_AT + HOUR)


def test_failure_mid_sync_then_rerun_ends_equal_to_the_audience(
    setup: Setup, kinds: list[Kind], fake_tool: FakeTool
) -> None:
    setup.sync()
    setup.warehouse.audience("winback", [person(i) for i in range(5, 29)])  # 4 leave, 4 join
    setup.warehouse.audience("vip", [person(i, "top spender") for i in range(12, 30)])
    for kind in kinds:
        kind.break_()
    failed = setup.sync(SYNC_AT + HOUR)
    for kind in kinds:
        winback, vip = result(failed, "winback", kind.name), result(failed, "vip", kind.name)
        assert winback.status == "failed" and winback.error, (kind.name, winback)
        assert winback.acknowledged == 0 and winback.changes > 0, (kind.name, winback)
        if kind.name == "sms_tool":  # the first batch (vip, 2 changes) went through, then every request failed
            assert vip.status == "failed" and vip.acknowledged == 2 < vip.changes, vip
        else:
            assert vip.status == "success" and vip.acknowledged == vip.changes > 0, (kind.name, vip)
    history = setup.warehouse.query(
        "select destination, audience, status, acknowledged from activation.sync_history where sync_id = ?",
        [failed.sync_id],
    )
    assert {(d, a): (s, n) for d, a, s, n in history} == {
        (r.destination, r.audience): (r.status, r.acknowledged) for r in failed.results
    }
    requests_before_rerun = len(fake_tool.requests)
    for kind in kinds:
        kind.repair()
    rerun = setup.sync(SYNC_AT + 2 * HOUR)
    assert_all(rerun)
    for kind in kinds:
        assert_equal_to_audience(kind, SYNC_AT + 2 * HOUR)
        for audience in AUDIENCES:
            before, after = result(failed, audience, kind.name), result(rerun, audience, kind.name)
            # the rerun resends exactly what was not acknowledged
            assert after.changes == before.changes - before.acknowledged, (kind.name, audience, before, after)
    resent = [
        (r["body"]["audience"], c["customer_id"])
        for r in fake_tool.requests[requests_before_rerun:]
        for c in r["body"]["changes"]
    ]
    assert len(resent) == len(set(resent)), "a change was sent twice in the rerun"
    keys = [a["idempotency_key"] for a in fake_tool.applied]
    assert len(keys) == len(set(keys))


def test_consent_withdrawal_removes_the_customer_at_the_next_sync(setup: Setup, kinds: list[Kind]) -> None:
    setup.sync()
    withdrawn_at = SYNC_AT + 4 * HOUR
    for channel in ("email", "sms"):
        setup.warehouse.withdraw("c017", channel, "marketing", withdrawn_at)  # in both audiences
    before = setup.sync(withdrawn_at - HOUR)  # the withdrawal is later than this sync
    assert all(r.changes == 0 for r in before.results), before
    after = setup.sync(withdrawn_at + HOUR)
    assert_all(after)
    for kind in kinds:
        for audience in AUDIENCES:
            r = result(after, audience, kind.name)
            assert (r.adds, r.updates, r.removes) == (0, 0, 1), (kind.name, audience, r)
            assert "c017" not in kind.members(audience), (kind.name, audience)
        assert_equal_to_audience(kind, withdrawn_at + HOUR)
