"""The engine on the project's own marts: the shared built sample (300 generated customers).

A copy of the warehouse gets a stand-in audience made from ``marts.dim_customers`` (until the
audience models exist); the sync must follow the real ``marts.fct_customer_consent_periods``,
checked here in Python from the periods themselves, and the campaign evaluation must read the real
``marts.fct_orders``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.activation.campaign import evaluate_campaign
from pipelines.activation.config import load_config
from pipelines.activation.sync import activate

SYNC_AT = datetime(2026, 10, 31, 23, 0)  # the end of the sample period


@pytest.mark.slow
def test_a_sync_of_the_built_sample_follows_the_consent_marts(built_sample, tmp_path: Path) -> None:
    warehouse = tmp_path / "kith.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{built_sample.warehouse}' as sample (read_only)")
        con.execute("copy from database sample to kith")
        con.execute("detach sample")
        con.execute(
            """
            create table marts.aud_contactable as
            select customer_id, email, phone_e164, 'known customer' as audience_reason, loyalty_tier
            from marts.dim_customers
            where email is not null or phone_e164 is not null
            """
        )
        periods = con.execute(
            """
            select customer_id, valid_from, valid_to
            from marts.fct_customer_consent_periods
            where consent_channel = 'email' and consent_purpose = 'marketing' and is_granted
            """
        ).fetchall()
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
                    }
                ],
            }
        )
    )
    report = activate(warehouse, load_config(config), reports=tmp_path, now=SYNC_AT)
    r = report.results[0]
    assert r.status == "success", r

    consented = {c for c, start, end in periods if start <= SYNC_AT and (end is None or end > SYNC_AT)}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        control = {
            c
            for (c,) in con.execute(
                "select customer_id from activation.audience_assignments where assignment_group = 'control'"
            ).fetchall()
        }
        sent = dict(
            con.execute(
                f"select customer_id, email from read_csv('{tmp_path}/exports/email_tool/contactable/*.csv', "
                "all_varchar = true)"
            ).fetchall()
        )
        evaluation = evaluate_campaign(con, "contactable", date(2026, 6, 1))
    want = {c: e for c, e in audience.items() if e and c in consented and c not in control}
    assert sent == want
    assert len(want) > 20 and r.no_consent > 20 and 0 < len(control) < len(audience)
    assert (evaluation.treated.customers, evaluation.control.customers) == (len(audience) - len(control), len(control))
    assert evaluation.treated.buyers > 0
