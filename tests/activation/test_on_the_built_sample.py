"""The engine on the project's own marts: the shared built sample (300 generated customers).

1. The shipped ``activation.yml`` syncs every audience model (``marts.aud_*``) to its destinations
   (files in a temporary folder, the local HTTP tool, a temporary SQLite CRM) with zero consent
   violations, checked in Python from the real ``marts.fct_customer_consent_periods``; the control
   groups are never sent; a second sync sends nothing.
2. A stand-in audience made from ``marts.dim_customers`` follows the consent marts exactly, and
   ``kith evaluate campaign`` reads the real ``marts.fct_orders``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import FakeTool, file_changes

from kith.config import PROJECT_DIR
from pipelines.activation.campaign import evaluate_campaign
from pipelines.activation.config import load_config
from pipelines.activation.sync import activate

SYNC_AT = datetime(2026, 10, 31, 23, 0)  # the end of the sample period


def copy_of(built_sample, folder: Path) -> Path:
    warehouse = folder / "kith.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{built_sample.warehouse}' as sample (read_only)")
        con.execute("copy from database sample to kith")
        con.execute("detach sample")
        con.execute("drop schema if exists activation cascade")  # start with no sync state
    return warehouse


def granted_at(con: duckdb.DuckDBPyConnection, at: datetime) -> dict[tuple[str, str], set[str]]:
    """(channel, purpose) -> customers with a granted period covering `at`, worked out in Python."""
    granted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for customer, channel, purpose, is_granted, start, end in con.execute(
        "select customer_id, consent_channel, consent_purpose, is_granted, valid_from, valid_to "
        "from marts.fct_customer_consent_periods"
    ).fetchall():
        if is_granted and start <= at and (end is None or end > at):
            granted[(channel, purpose)].add(customer)
    return granted


@pytest.mark.slow
def test_the_shipped_config_syncs_every_audience_model_without_a_consent_violation(
    built_sample, tmp_path: Path, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = copy_of(built_sample, tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        audiences = [
            t.removeprefix("aud_")
            for (t,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and starts_with(table_name, 'aud_')"
            ).fetchall()
        ]
        granted = granted_at(con, SYNC_AT)
    if not audiences:
        pytest.skip("the build has no audience models (marts.aud_*) yet")
    for name in ("sms_tool", "ad_platform"):
        monkeypatch.setenv(f"KITH_{name.upper()}_URL", fake_tool.url(name))
        monkeypatch.setenv(f"KITH_{name.upper()}_TOKEN", fake_tool.token)
    monkeypatch.setenv("KITH_CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'crm.db'}")
    config = load_config(PROJECT_DIR / "activation.yml")

    report = activate(warehouse, config, reports=tmp_path, now=SYNC_AT)
    assert [(r.audience, r.destination, r.error) for r in report.results if r.status != "success"] == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        control = set(
            con.execute(
                "select audience, customer_id from activation.audience_assignments where assignment_group = 'control'"
            ).fetchall()
        )
    delivered = [
        (r["path"], r["body"]["audience"], c["customer_id"]) for r in fake_tool.requests for c in r["body"]["changes"]
    ]
    for destination in config.destinations:
        if destination.kind == "file":
            for audience in audiences:
                folder = tmp_path / destination.settings["path"] / audience
                delivered += [(destination.name, audience, row["customer_id"]) for row in file_changes(folder)]
    violations = [
        (destination, audience, customer)
        for destination, audience, customer in delivered
        if (audience, customer) in control
        or any(customer not in granted[(c.channel, c.purpose)] for c in config.destination(destination).consents)
    ]
    assert violations == []
    assert len(delivered) == sum(r.acknowledged for r in report.results if r.kind != "database") > 0
    assert sum(r.no_consent for r in report.results) > 0

    again = activate(warehouse, config, reports=tmp_path, now=SYNC_AT + timedelta(hours=1))
    assert [r.changes for r in again.results] == [0] * len(again.results)


@pytest.mark.slow
def test_a_stand_in_audience_follows_the_consent_marts_exactly(built_sample, tmp_path: Path) -> None:
    warehouse = copy_of(built_sample, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """
            create table marts.aud_contactable as
            select customer_id, email, phone_e164, 'known customer' as audience_reason, loyalty_tier
            from marts.dim_customers
            where email is not null or phone_e164 is not null
            """
        )
        consented = granted_at(con, SYNC_AT)[("email", "marketing")]
        audience = dict(con.execute("select customer_id, email from marts.aud_contactable").fetchall())
    config = tmp_path / "activation.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "audiences": {"contactable": {"control_share": 0.2}},
                "destinations": [
                    {
                        "name": "email_tool",
                        "kind": "file",
                        "path": str(tmp_path / "exports" / "email_tool"),
                        "consent": {"channel": "email", "purpose": "marketing"},
                        "identifiers": ["email"],
                        "audiences": ["contactable"],
                    }
                ],
            }
        )
    )
    report = activate(warehouse, load_config(config), reports=tmp_path, now=SYNC_AT)
    r = report.results[0]
    assert r.status == "success", r
    with duckdb.connect(str(warehouse), read_only=True) as con:
        control = {
            c
            for (c,) in con.execute(
                "select customer_id from activation.audience_assignments "
                "where audience = 'contactable' and assignment_group = 'control'"
            ).fetchall()
        }
        evaluation = evaluate_campaign(con, "contactable", date(2026, 6, 1))
    sent = {row["customer_id"]: row["email"] for row in file_changes(tmp_path / "exports/email_tool/contactable")}
    want = {c: e for c, e in audience.items() if e and c in consented and c not in control}
    assert sent == want
    assert len(want) > 20 and r.no_consent > 20 and 0 < len(control) < len(audience)
    assert (evaluation.treated.customers, evaluation.control.customers) == (len(audience) - len(control), len(control))
    assert evaluation.treated.buyers > 0
