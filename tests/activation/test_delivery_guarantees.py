"""Retries never duplicate, and one slow or failing destination never stops the others.

Against the local HTTP tool (which applies each change once per idempotency key, as a real tool
with idempotency support does), a temporary folder and a temporary SQLite database.
"""

from __future__ import annotations

import time
from datetime import timedelta

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
    person,
    replay,
    result,
)

from kith.cli import main


@pytest.fixture()
def audience(setup: Setup) -> list[str]:
    """One audience of 10 with email and phone, all consented to email and sms; returns the customer ids."""
    members = [i for i in range(1, 13) if i not in (7, 10)]
    setup.warehouse.audience("winback", [person(i) for i in members])
    consent = setup.warehouse.consent
    setup.warehouse.grant_all([consent(i, c) for i in members for c in ("email", "sms")])
    return [f"c{i:03d}" for i in members]


def applied_once(tool: FakeTool) -> list[str]:
    keys = [a["idempotency_key"] for a in tool.applied]
    assert len(keys) == len(set(keys))
    return [a["customer_id"] for a in tool.applied]


def test_a_batch_whose_response_was_lost_is_applied_once(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, audience: list[str]
) -> None:
    setup.write_config([http_destination(fake_tool, monkeypatch, batch_size=4)])
    fake_tool.actions = {2: "lost"}  # the second batch is applied, but its answer never arrives
    report = setup.sync()
    r = result(report, "winback", "sms_tool")
    assert (r.status, r.adds, r.acknowledged) == ("success", 10, 10), r
    assert len(fake_tool.requests) == 4  # 3 batches + 1 retry
    retried = fake_tool.requests[1:3]
    assert retried[0]["raw"] == retried[1]["raw"]
    assert retried[0]["headers"]["idempotency-key"] == retried[1]["headers"]["idempotency-key"]
    assert sorted(applied_once(fake_tool)) == audience


def test_a_retry_racing_a_slow_answer_is_applied_once(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, audience: list[str]
) -> None:
    setup.write_config([http_destination(fake_tool, monkeypatch, batch_size=4, request_timeout_seconds=0.3)])
    fake_tool.actions = {1: ("slow", 1.0)}  # answers after the client gave up; the retry arrives meanwhile
    report = setup.sync()
    assert result(report, "winback", "sms_tool").status == "success"
    time.sleep(1.0)  # let the slow request finish applying (it finds its changes already applied)
    assert sorted(applied_once(fake_tool)) == audience
    assert fake_tool.state("sms_tool", "winback").keys() == set(audience)


def test_a_sync_that_failed_after_the_tool_applied_resends_the_same_keys_and_the_tool_drops_them(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, audience: list[str]
) -> None:
    setup.write_config([http_destination(fake_tool, monkeypatch, batch_size=20, max_retries=1)])
    fake_tool.actions = {1: "lost", 2: "lost"}  # applied, but the client never hears back
    failed = setup.sync()
    assert result(failed, "winback", "sms_tool").acknowledged == 0
    first_keys = {c["idempotency_key"] for c in fake_tool.requests[0]["body"]["changes"]}
    rerun = setup.sync(SYNC_AT + timedelta(hours=1))
    r = result(rerun, "winback", "sms_tool")
    assert (r.status, r.adds, r.acknowledged) == ("success", 10, 10)
    assert {c["idempotency_key"] for c in fake_tool.requests[2]["body"]["changes"]} == first_keys
    assert sorted(applied_once(fake_tool)) == audience  # applied by the first sync, once
    assert setup.sync(SYNC_AT + timedelta(hours=2)).results[0].changes == 0


def test_changes_the_tool_may_have_applied_are_undone_when_the_audience_moves_back(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, audience: list[str]
) -> None:
    """A failed sync leaves changes the tool may or may not have applied; the next sync must not trust
    the state alone: a member who was added-maybe and left is removed, an update-maybe that was
    reverted is sent again."""
    setup.write_config([http_destination(fake_tool, monkeypatch, batch_size=20, max_retries=0)])
    setup.sync()
    rows = [person(int(c[1:])) for c in audience]
    changed = [dict(r) for r in rows] + [person(13)]
    changed[0]["lifetime_value"] = 1  # c001 updated
    setup.warehouse.audience("winback", changed)
    setup.warehouse.grant_all([setup.warehouse.consent(13, "sms")])
    fake_tool.actions = {len(fake_tool.requests) + 1: "lost"}  # applied, never acknowledged
    failed = setup.sync(SYNC_AT + timedelta(hours=1))
    assert result(failed, "winback", "sms_tool").acknowledged == 0
    assert "c013" in fake_tool.state("sms_tool", "winback")
    setup.warehouse.audience("winback", rows)  # back as it was: c013 out, c001 as before
    rerun = setup.sync(SYNC_AT + timedelta(hours=2))
    r = result(rerun, "winback", "sms_tool")
    assert (r.status, r.adds, r.updates, r.removes) == ("success", 0, 1, 1)
    held = fake_tool.state("sms_tool", "winback")
    assert sorted(held) == audience
    assert held["c001"]["lifetime_value"] == "10.25"


def test_a_slow_and_a_failing_destination_do_not_stop_the_others(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, audience: list[str]
) -> None:
    monkeypatch.delenv("KITH_TEST_NOT_SET_URL", raising=False)
    fake_tool.path_actions = {"slow_tool": ("slow", 3.0), "broken_tool": "500"}
    setup.write_config(
        [
            http_destination(fake_tool, monkeypatch, "slow_tool", timeout_seconds=1, request_timeout_seconds=10),
            http_destination(fake_tool, monkeypatch, "broken_tool", max_retries=1),
            file_destination(setup),
            database_destination(),
            http_destination(fake_tool, monkeypatch, "unconfigured_tool", url_env="KITH_TEST_NOT_SET_URL"),
        ]
    )
    started = time.perf_counter()
    report = setup.sync()
    elapsed = time.perf_counter() - started
    statuses = {r.destination: r.status for r in report.results}
    assert statuses == {
        "slow_tool": "timeout",
        "broken_tool": "failed",
        "email_files": "success",
        "crm": "success",
        "unconfigured_tool": "skipped",
    }
    assert elapsed < 3.0, f"the slow destination held the sync for {elapsed:.1f}s"
    errors = {r.destination: r.error for r in report.results}
    assert errors["broken_tool"].startswith("HTTP 500 from http://127.0.0.1") and "\n" not in errors["broken_tool"]
    assert "timed out" in errors["slow_tool"]
    assert errors["unconfigured_tool"] == "not configured: set KITH_TEST_NOT_SET_URL"
    assert sorted(replay(file_changes(setup.exports("email_files", "winback")))) == audience
    assert sorted(database_members(setup.crm, "aud_winback")) == audience
    history = setup.warehouse.query("select destination, status from activation.sync_history order by 1")
    assert dict(history) == statuses


def test_the_cli_reports_each_destination_and_exits_1_when_one_failed(
    setup: Setup,
    fake_tool: FakeTool,
    monkeypatch: pytest.MonkeyPatch,
    audience: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_tool.path_actions = {"broken_tool": "500"}
    setup.write_config(
        [http_destination(fake_tool, monkeypatch, "broken_tool", max_retries=0), file_destination(setup)]
    )
    monkeypatch.setenv("KITH_WAREHOUSE", str(setup.warehouse.path))
    monkeypatch.setenv("KITH_REPORTS", str(setup.reports))
    monkeypatch.setenv("KITH_ACTIVATION_CONFIG", str(setup.config_path))
    assert main(["activate"]) == 1
    printed = capsys.readouterr().out
    assert f"winback -> broken_tool: {fake_tool.url('broken_tool')} (failed: HTTP 500 from http://127.0.0.1" in printed
    assert f"winback -> email_files: {setup.exports('email_files', 'winback')}/" in printed
    assert "1 failed, 1 success" in printed
