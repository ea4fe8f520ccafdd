"""Consent is never violated, withdrawal removes, ad platforms get hashes only.

Consent histories are drawn at random (fixed seed) per customer, channel and purpose: never asked,
granted, withdrawn, withdrawn then granted again, granted only later, refused, expired. Each sync is
checked against those periods by this test's own rule (a granted period covering the sync time for
every consent the destination requires), for every delivered row and for what every destination holds
afterwards.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from functools import partial

import pytest
from conftest import (
    CONSENT_FROM,
    FakeTool,
    Period,
    Setup,
    database_destination,
    database_members,
    file_changes,
    file_destination,
    http_destination,
    person,
    replay,
    result,
    sha256,
)

SYNCS = [datetime(2026, 3, 1), datetime(2026, 5, 1), datetime(2026, 7, 1)]
AUDIENCES = {"winback": range(1, 41), "vip": range(25, 71)}
# destination -> (consents required, the identifiers it takes)
RULES = {
    "email_files": ([("email", "marketing")], ("email",)),
    "sms_tool": ([("sms", "marketing")], ("phone_e164",)),
    "ad_platform": ([("ads", "marketing"), ("ads", "profiling")], ("email", "phone_e164")),
    "crm": ([("email", "marketing")], ("email", "phone_e164")),
}


def random_periods(rng: random.Random, customer: str, channel: str, purpose: str) -> list[Period]:
    start, end = CONSENT_FROM, SYNCS[-1] + timedelta(days=10)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))

    story = rng.choice(["never", "granted", "withdrawn", "regranted", "later", "refused", "expired"])
    a, b = sorted([moment(), moment()])
    granted = partial(Period, customer, channel, purpose, True)
    refused = partial(Period, customer, channel, purpose, False)
    return {
        "never": [],
        "granted": [granted(start, None)],
        "withdrawn": [granted(start, a), refused(a, None)],
        "regranted": [granted(start, a), refused(a, b), granted(b, None)],
        "later": [granted(a, None)],
        "refused": [refused(start, None)],
        "expired": [granted(start, a)],
    }[story]


@pytest.fixture()
def world(setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch) -> Setup:
    for name, members in AUDIENCES.items():
        setup.warehouse.audience(name, [person(i) for i in members])
    rng = random.Random(20261129)
    periods = [
        p
        for i in range(1, 71)
        for channel, purpose in {c for rules, _ in RULES.values() for c in rules}
        for p in random_periods(rng, f"c{i:03d}", channel, purpose)
    ]
    setup.warehouse.grant_all(periods)
    setup.write_config(
        [
            file_destination(setup),
            http_destination(fake_tool, monkeypatch, batch_size=25),
            http_destination(
                fake_tool,
                monkeypatch,
                "ad_platform",
                batch_size=25,
                hash_identifiers=True,
                identifiers=["email", "phone_e164"],
                attributes=[],
                consent=[{"channel": "ads", "purpose": "marketing"}, {"channel": "ads", "purpose": "profiling"}],
            ),
            database_destination(identifiers=["email", "phone_e164"]),
        ],
        audiences={"vip": {"control_share": 0.25}},
    )
    return setup


def allowed(setup: Setup, destination: str, customer_id: str, at: datetime) -> bool:
    consents, _ = RULES[destination]
    return all(setup.warehouse.consented(customer_id, c, p, at) for c, p in consents)


def held(setup: Setup, tool: FakeTool, destination: str, audience: str) -> dict[str, dict]:
    if destination == "email_files":
        return replay(file_changes(setup.exports(destination, audience)))
    if destination == "crm":
        return database_members(setup.crm, f"aud_{audience}")
    return tool.state(destination, audience)


def test_no_customer_is_ever_sent_without_consent_and_withdrawal_removes(world: Setup, fake_tool: FakeTool) -> None:
    setup = world
    control = set()
    violations: list[tuple] = []
    delivered = removed_for_consent = suppressed = 0
    previous: dict[tuple[str, str], set[str]] = {}
    for at in SYNCS:
        file_marks = {a: len(file_changes(setup.exports("email_files", a))) for a in AUDIENCES}
        request_mark = len(fake_tool.requests)
        report = setup.sync(at)
        assert [r for r in report.results if r.status != "success"] == []
        control = {
            c
            for (c,) in setup.warehouse.query(
                "select customer_id from activation.audience_assignments where assignment_group = 'control'"
            )
        }
        # every row delivered by this sync (adds and updates) was allowed at the time of the sync
        sent = [
            ("email_files", a, row["customer_id"])
            for a in AUDIENCES
            for row in file_changes(setup.exports("email_files", a))[file_marks[a] :]
            if row["kith_change"] != "remove"
        ] + [
            (r["path"], r["body"]["audience"], c["customer_id"])
            for r in fake_tool.requests[request_mark:]
            for c in r["body"]["changes"]
            if c["change"] != "remove"
        ]
        for destination, audience, customer_id in sent:
            delivered += 1
            if not allowed(setup, destination, customer_id, at) or (audience == "vip" and customer_id in control):
                violations.append((at, destination, audience, customer_id))
        # and afterwards every destination holds exactly who is allowed (withdrawals removed)
        for destination, (_, identifiers) in RULES.items():
            for audience, members in AUDIENCES.items():
                holds = set(held(setup, fake_tool, destination, audience))
                for customer_id in holds:
                    if not allowed(setup, destination, customer_id, at):
                        violations.append((at, destination, audience, customer_id, "held"))
                want = {
                    p["customer_id"]
                    for p in map(person, members)
                    if allowed(setup, destination, p["customer_id"], at)
                    and any(p[i] for i in identifiers)
                    and not (audience == "vip" and p["customer_id"] in control)
                }
                assert holds == want, (at, destination, audience)
                before = previous.get((destination, audience), set())
                removed_for_consent += sum(1 for c in before - holds if not allowed(setup, destination, c, at))
                previous[(destination, audience)] = holds
                suppressed += result(report, audience, destination).no_consent
    assert violations == []
    # the check is not vacuous: rows were sent, consent kept people out, and withdrawals removed some
    assert delivered > 50 and suppressed > 100 and removed_for_consent > 5
    assert len(control) > 3


def test_the_ad_platform_gets_sha256_of_the_normalised_identifiers_and_nothing_raw(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [person(i) for i in range(1, 15)]
    setup.warehouse.audience("winback", rows)
    setup.warehouse.grant_all([setup.warehouse.consent(i, "ads") for i in range(1, 15)])
    setup.write_config(
        [
            http_destination(
                fake_tool,
                monkeypatch,
                "ad_platform",
                hash_identifiers=True,
                identifiers=["email", "phone_e164"],
                attributes=[],
                consent={"channel": "ads", "purpose": "marketing"},
            )
        ]
    )
    report = setup.sync(SYNCS[0])
    assert result(report, "winback", "ad_platform").adds == 14
    held_now = fake_tool.state("ad_platform", "winback")
    for row in rows:
        data = held_now[row["customer_id"]]
        assert set(data) == {"email_sha256", "phone_sha256"}
        email, phone = row["email"], row["phone_e164"]
        assert data["email_sha256"] == (sha256(email.strip().lower()) if email else None)
        assert data["phone_sha256"] == (sha256(phone) if phone else None)
    raw = b"".join(r["raw"] for r in fake_tool.requests).decode()
    assert "@" not in raw and "+4477" not in raw and "Person" not in raw and "lapsed" not in raw
    # a removal carries the hashes last sent, never the raw values
    setup.warehouse.audience("winback", rows[1:])
    setup.sync(SYNCS[1])
    removal = json.loads(fake_tool.requests[-1]["raw"])["changes"]
    assert removal == [
        {
            "change": "remove",
            "idempotency_key": removal[0]["idempotency_key"],
            "customer_id": "c001",
            "data": {"email_sha256": sha256("person1@example.com"), "phone_sha256": sha256("+447700900001")},
        }
    ]


def test_an_operational_destination_needs_no_consent(setup: Setup) -> None:
    setup.warehouse.audience("winback", [person(i) for i in range(1, 8)])
    setup.write_config([file_destination(setup, "call_centre", "parquet", consent="none", identifiers=["phone_e164"])])
    report = setup.sync(SYNCS[0])
    r = result(report, "winback", "call_centre")
    assert (r.members, r.no_consent, r.no_identifier, r.adds) == (7, 0, 1, 6)  # c007 has no phone
    assert sorted(replay(file_changes(setup.exports("call_centre", "winback")))) == [f"c{i:03d}" for i in range(1, 7)]
