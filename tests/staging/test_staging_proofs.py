"""Proofs for the staging layer, run against a throwaway warehouse (see conftest.py):
junk identifiers end up flagged, and a drifted raw table stops the build at staging with a
message naming the source, the table and the column."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixture type only; conftest.py is loaded by pytest, not imported
    from conftest import DbtProject

STAMPS = {"created_at": "2026-03-01 10:00:00+00", "updated_at": "2026-03-01 10:00:00+00"}
LINEAGE = {"_dlt_load_id": "1772359200.1", "_kith_file": "crm/contacts/2026-03-01.csv"}


def test_junk_identifiers_are_flagged_in_staging(dbt_project: DbtProject) -> None:
    rows = [
        {"crm_id": "c1", "email": " TEST@test.com ", "phone": "07000000000", "_kith_line": 2},
        {"crm_id": "c2", "email": "n/a", "phone": "none", "_kith_line": 3},
        {"crm_id": "c3", "email": "Jo.Bloggs+shop@GoogleMail.com", "phone": "07700 900123", "_kith_line": 4},
    ]
    dbt_project.insert("raw_crm.contacts", [{**row, **STAMPS, **LINEAGE} for row in rows])

    result = dbt_project.dbt("build", "--select", "identifier_junk_rules", "stg_crm__contacts")

    assert result.success, dbt_project.errors(result)
    staged = dbt_project.query(
        "select crm_id, email, canonical_email, is_email_junk, phone_e164, is_phone_junk"
        " from staging.stg_crm__contacts order by crm_id",
    )
    assert staged == [
        ("c1", "test@test.com", "test@test.com", True, "+447000000000", True),
        ("c2", "n/a", "n/a", True, None, True),
        ("c3", "jo.bloggs+shop@googlemail.com", "jobloggs@gmail.com", False, "+447700900123", False),
    ]


def test_dropped_and_retyped_columns_fail_the_staging_build(dbt_project: DbtProject) -> None:
    assert dbt_project.dbt("seed").success
    dbt_project.execute("alter table raw_crm.contacts drop column email")
    dbt_project.execute("alter table raw_shop.customers alter updated_at type varchar")

    result = dbt_project.dbt("build", "--select", "staging")

    assert not result.success
    messages = dbt_project.errors(result)
    assert "Schema drift in source raw_crm.contacts (source('crm', 'contacts'))" in messages
    assert "column 'email' is missing (declared VARCHAR)" in messages
    assert "Schema drift in source raw_shop.customers (source('shop', 'customers'))" in messages
    assert "column 'updated_at' changed type: declared TIMESTAMP WITH TIME ZONE, found VARCHAR" in messages
    # the other sources are intact: their staging models still build
    assert dbt_project.query("select count(*) from staging.stg_web__events") == [(0,)]


def test_model_level_guard_fails_a_plain_run(dbt_project: DbtProject) -> None:
    """`dbt run` executes no tests: the guard at the top of the staging model still stops it."""
    assert dbt_project.dbt("seed").success
    dbt_project.execute("alter table raw_crm.contacts alter date_of_birth type varchar")

    result = dbt_project.dbt("run", "--select", "stg_crm__contacts")

    assert not result.success
    messages = dbt_project.errors(result)
    assert "Schema drift in source raw_crm.contacts" in messages
    assert "column 'date_of_birth' changed type: declared DATE, found VARCHAR" in messages


def test_new_undeclared_column_only_warns(dbt_project: DbtProject) -> None:
    assert dbt_project.dbt("seed").success
    dbt_project.execute("alter table raw_qr.scans add column campaign_medium varchar")

    result = dbt_project.dbt("build", "--select", "stg_qr__scans")

    assert result.success, dbt_project.errors(result)
    columns = [row[0] for row in dbt_project.query("describe staging.stg_qr__scans")]
    assert "campaign_medium" not in columns
