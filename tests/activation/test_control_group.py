"""Control groups: a stable random share of each audience, recorded, and never sent anywhere."""

from __future__ import annotations

import math
from datetime import timedelta

import duckdb
import pytest
from conftest import SYNC_AT, FakeTool, Setup, file_changes, file_destination, http_destination, person, replay, result

from pipelines.activation import plan, state


def assignments(setup: Setup, audience: str) -> dict[str, str]:
    rows = setup.warehouse.query(
        "select customer_id, assignment_group from activation.audience_assignments where audience = ?", [audience]
    )
    return dict(rows)


def test_the_control_share_is_honoured_and_depends_on_the_audience() -> None:
    con = duckdb.connect()
    state.ensure_schema(con)
    con.execute("create schema marts")
    con.execute("create table marts.aud_a as select 'c' || i as customer_id from range(4000) t(i)")
    con.execute("create table marts.aud_b as select * from marts.aud_a")
    for name in ("a", "b"):
        plan.assign_groups(con, plan.Audience(name, (("customer_id", "VARCHAR"),)), 0.2, SYNC_AT)
    shares = dict(
        con.execute(
            "select audience, avg((assignment_group = 'control')::int) from activation.audience_assignments group by 1"
        ).fetchall()
    )
    sd = math.sqrt(0.2 * 0.8 / 4000)
    assert all(abs(share - 0.2) < 4 * sd for share in shares.values()), shares
    # the same customers fall differently in another audience (the hash includes the audience)
    same = con.execute(
        """
        select avg((a.assignment_group = b.assignment_group)::int)
        from activation.audience_assignments a
        join activation.audience_assignments b
            on a.customer_id = b.customer_id and a.audience = 'a' and b.audience = 'b'
        """
    ).fetchone()[0]
    assert abs(same - (0.8**2 + 0.2**2)) < 0.03


def test_control_customers_are_stable_recorded_and_never_sent(
    setup: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = list(range(1, 61))
    setup.warehouse.audience("winback", [person(i) for i in members])
    setup.warehouse.grant_all([setup.warehouse.consent(i, c) for i in members for c in ("email", "sms")])
    destinations = [file_destination(setup), http_destination(fake_tool, monkeypatch, batch_size=50)]
    setup.write_config(destinations, audiences={"winback": {"control_share": 0.3}})
    first = setup.sync()
    groups = assignments(setup, "winback")
    control = {c for c, g in groups.items() if g == "control"}
    assert len(groups) == 60 and 8 <= len(control) <= 28
    assert result(first, "winback", "email_files").held_out == len(control)
    first_seen = setup.warehouse.query("select distinct first_assigned_at from activation.audience_assignments")
    assert first_seen == [(SYNC_AT,)]

    # a later sync with newcomers and a changed share keeps every earlier assignment
    setup.warehouse.audience("winback", [person(i) for i in range(1, 81)])
    setup.warehouse.grant_all([setup.warehouse.consent(i, c) for i in range(61, 81) for c in ("email", "sms")])
    setup.write_config(destinations, audiences={"winback": {"control_share": 0.9}})
    second = setup.sync(SYNC_AT + timedelta(days=1))
    later = assignments(setup, "winback")
    assert {c: later[c] for c in groups} == groups
    newcomers = {c: g for c, g in later.items() if c not in groups}
    assert len(newcomers) == 20 and sum(g == "control" for g in newcomers.values()) >= 12  # at 0.9
    control = {c for c, g in later.items() if g == "control"}
    assert result(second, "winback", "sms_tool").held_out == len(control)

    sent = {c["customer_id"] for r in fake_tool.requests for c in r["body"]["changes"]}
    sent |= {r["customer_id"] for r in file_changes(setup.exports("email_files", "winback"))}
    assert sent, "nothing was sent: the test would prove nothing"
    assert sent.isdisjoint(control)
    treated_with_email = {c for c, g in later.items() if g == "treatment" and int(c[1:]) % 10}
    assert set(replay(file_changes(setup.exports("email_files", "winback")))) == treated_with_email
