"""Security: personal data stays where it is flagged and restricted, secrets come only from the
environment and never reach a log, report or table, and user input never becomes SQL.

Proven elsewhere (not repeated): the published BI marts hash or mask every flagged column unless PII
is granted explicitly (tests/bi/test_publish.py::test_personal_data_is_hashed_or_masked_by_default,
test_personal_data_is_published_when_granted, test_an_explicit_refusal_wins_over_the_environment);
activation.yml refuses secrets and endpoints (tests/activation/test_cli_and_config.py); ad platforms
receive SHA-256 only (tests/activation/test_consent.py); `kith profile` binds typed values
(tests/test_profile.py).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from kith.config import PROJECT_DIR
from pipelines.ingest import ingest
from tests.activation.conftest import SYNC_AT, Setup, Warehouse, file_changes, file_destination, person, replay
from tests.conftest import Sample, run_kith
from tests.reliability.conftest import copy_sample, query

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]"
PHONE = r"\+[0-9]{10,14}"
INJECTIONS = [
    "x' or '1'='1",
    "'; drop table marts.dim_customers; --",
    'a"; drop table marts.dim_customers; --@x.com',
    "cus_' or customer_id is not null or '",
    "07700 900123' union select customer_id from marts.dim_customers --",
]


# -- personal data ------------------------------------------------------------------------------
def _flagged(column: dict) -> bool:
    return bool(
        (column.get("meta") or {}).get("contains_pii")
        or ((column.get("config") or {}).get("meta") or {}).get("contains_pii")
    )


def test_public_marts_hold_emails_and_phones_only_in_columns_flagged_as_pii(built_sample: Sample) -> None:
    """Flagged columns are what the BI publication masks: a public mart column holding an email or a
    phone number without the flag would be published in clear. Staging (private) and raw are
    restricted to the data platform group."""
    manifest = json.loads((built_sample.target / "manifest.json").read_text())
    con = duckdb.connect(str(built_sample.warehouse), read_only=True)
    unflagged, detected = [], 0
    try:
        for node in manifest["nodes"].values():
            if node["resource_type"] != "model":
                continue
            if node["schema"] == "staging":
                assert node.get("access") == "private", node["name"]
            if node.get("access") != "public":
                continue
            relation = node.get("alias") or node["name"]
            columns = con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ?",
                [node["schema"], relation],
            ).fetchall()
            for column, data_type in columns:
                if data_type not in ("VARCHAR", "VARCHAR[]"):
                    continue
                value = f'"{column}"' if data_type == "VARCHAR" else f"array_to_string(\"{column}\", ' ')"
                (n,) = con.execute(
                    f'select count(*) from "{node["schema"]}"."{relation}" '
                    f"where regexp_matches({value}, ?) or regexp_matches({value}, ?)",
                    [EMAIL, PHONE],
                ).fetchone()
                if _flagged(node["columns"].get(column, {})):
                    detected += n
                elif n:
                    unflagged.append(f"{node['name']}.{column} ({n} rows)")
    finally:
        con.close()
    assert detected > 0, "the detector finds nothing, not even in the flagged columns"
    assert unflagged == []


# -- secrets ------------------------------------------------------------------------------------
def test_profiles_yml_takes_everything_variable_from_the_environment() -> None:
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())

    def leaves(node, path=()):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, (*path, str(k)))
        else:
            yield path, node

    for path, value in leaves(profiles):
        key = path[-1].lower()
        if any(word in key for word in ("pass", "token", "secret", "key", "user", "host", "path")):
            assert isinstance(value, str) and "env_var(" in value, f"{'.'.join(path)} is not read from the environment"


SECRET_TOKEN = "tok-3f9c1e7a-never-log-me"
SECRET_IN_URL = "urlsecret-8d2b44c1"


def test_secrets_reach_no_log_report_table_or_file(tmp_path: Path, monkeypatch, caplog, capsys) -> None:
    """A failing HTTP destination whose token and URL (with a key in it) come from the environment:
    the failure is recorded and reported, the secrets are not."""
    monkeypatch.setenv("KITH_TEST_HOOK_URL", f"http://127.0.0.1:9/hook?api_key={SECRET_IN_URL}")
    monkeypatch.setenv("KITH_TEST_TOKEN", SECRET_TOKEN)
    setup = Setup(
        tmp_path,
        Warehouse(tmp_path / "kith.duckdb"),
        tmp_path / "activation.yml",
        tmp_path / "reports",
        tmp_path / "crm.db",
    )
    setup.warehouse.audience("winback", [person(i) for i in range(1, 4)])
    setup.warehouse.grant_all([Warehouse.consent(i, "sms") for i in range(1, 4)])
    setup.write_config(
        [
            {
                "name": "hook",
                "kind": "http",
                "url_env": "KITH_TEST_HOOK_URL",
                "token_env": "KITH_TEST_TOKEN",
                "max_retries": 1,
                "backoff_seconds": 0.01,
                "request_timeout_seconds": 2,
                "consent": {"channel": "sms", "purpose": "marketing"},
                "identifiers": ["phone_e164"],
            }
        ]
    )
    with caplog.at_level("DEBUG"):
        report = setup.sync(SYNC_AT)
    assert report.failed, "the destination must fail for the test to mean anything"
    ((error,),) = setup.warehouse.query("select error from activation.sync_history")
    assert error
    printed = capsys.readouterr()
    texts = {"log": caplog.text, "stdout": printed.out, "stderr": printed.err, "history": error}
    for secret in (SECRET_TOKEN, SECRET_IN_URL):
        for where, text in texts.items():
            assert secret not in text, f"{secret} in {where}"
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.name != "activation.yml":
                assert secret.encode() not in path.read_bytes(), f"{secret} in {path}"


# -- user input never becomes SQL ------------------------------------------------------------------
@pytest.fixture(scope="module")
def built_copy(built_sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return copy_sample(built_sample, tmp_path_factory.mktemp("injection"))


def _state(env: dict[str, str]) -> list[tuple]:
    return query(
        env["KITH_WAREHOUSE"],
        "select schema_name, table_name, estimated_size from duckdb_tables() where not internal order by 1, 2",
    )


@pytest.mark.parametrize("typed", INJECTIONS)
def test_forget_binds_what_is_typed(built_copy: dict[str, str], typed: str) -> None:
    before = _state(built_copy)
    proc = run_kith(built_copy, "forget", typed)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "no customer found" in lines[0] and "nothing was erased" in lines[0], proc.stderr
    assert _state(built_copy) == before


@pytest.mark.parametrize(
    "args",
    [
        ["activate", "--dry-run", "winback'; drop table marts.dim_customers; --"],
        ["evaluate", "campaign", "x'; drop table marts.fct_orders; --", "--since", "2026-01-01"],
        ["profile", "'; drop table marts.dim_customers; --"],
    ],
)
def test_other_commands_refuse_injected_names_in_one_line(built_copy: dict[str, str], args: list[str]) -> None:
    before = _state(built_copy)
    proc = run_kith(built_copy, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1, proc.stderr
    assert "Parser Error" not in proc.stderr and "Traceback" not in proc.stderr
    assert _state(built_copy) == before


def test_landing_headers_and_keys_are_names_not_sql(tmp_path: Path) -> None:
    """Column names come from delivered files: a header or JSON key holding SQL is kept as a column."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse" / "kith.duckdb"
    evil = "x'); drop table raw_crm.loaded_files; --"
    crm = landing / "crm" / "contacts" / "2026-01-01.csv"
    crm.parent.mkdir(parents=True)
    crm.write_text(
        'crm_id,created_at,updated_at,"' + evil.replace('"', '""') + '","q""uote"\n'
        "C1,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z,a,b\n"
    )
    web = landing / "web" / "events" / "2026-01-01.jsonl"
    web.parent.mkdir(parents=True)
    web.write_text(
        json.dumps(
            {
                "event_id": "e1",
                "event_type": "page_view",
                "anonymous_id": "c1",
                "timestamp": "2026-01-01T10:00:00Z",
                "received_at": "2026-01-01T10:00:00Z",
                evil: "v",
            }
        )
        + "\n"
    )
    summary = ingest(landing, warehouse, systems=["crm", "web"])
    assert summary.rows_loaded == 2 and summary.rows_rejected == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for table, value in (("raw_crm.contacts", "a"), ("raw_web.events", "v")):
            schema, name = table.split(".")
            # dlt normalises column names (snake case): the header arrives as a harmless name
            (column,) = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
                if "drop_table" in c
            ]
            assert con.execute(f'select "{column}" from {table}').fetchall() == [(value,)]
        assert con.execute("select count(*) from raw_crm.loaded_files").fetchone() == (1,)
        assert con.execute("select new_columns from raw_crm.loaded_files").fetchone()[0].startswith("q")
    finally:
        con.close()


def test_audience_columns_are_quoted_when_synced(tmp_path: Path, monkeypatch) -> None:
    """An audience's attributes are its mart's columns: a column name holding SQL is delivered as a name."""
    setup = Setup(
        tmp_path,
        Warehouse(tmp_path / "kith.duckdb"),
        tmp_path / "activation.yml",
        tmp_path / "reports",
        tmp_path / "crm.db",
    )
    evil = "note'); drop table marts.fct_orders; --"
    setup.warehouse.audience("winback", [person(i) for i in range(1, 3)])
    con = setup.warehouse.connect()
    try:
        con.execute(f"alter table marts.aud_winback add column \"{evil}\" varchar default 'hello'")
    finally:
        con.close()
    setup.warehouse.grant_all([Warehouse.consent(i, "email") for i in range(1, 3)])
    setup.write_config([file_destination(setup)])
    report = setup.sync(SYNC_AT)
    assert not report.failed, report.results
    members = replay(file_changes(setup.exports("email_files", "winback")))
    assert len(members) == 2
    # dlt writes files with normalised column names (snake case): the value arrives under that name
    (delivered,) = {k for m in members.values() for k, v in m.items() if v == "hello"}
    assert "drop_table" in delivered
    assert setup.warehouse.query("select count(*) from marts.fct_orders") == [(0,)]
    setup.sync(SYNC_AT + timedelta(hours=1))  # and the diff against the stored state works too


def test_rule_values_are_quoted_when_inlined_into_sql() -> None:
    """Junk rules (seeds) are written into the compiled SQL by the macro kith_sql_string: whatever a
    rule holds comes back from DuckDB as the same text, never as SQL."""
    # DuckDB's implementation of the dispatched macro (macros/cross_db: Spark has its own)
    source = (PROJECT_DIR / "macros" / "cross_db" / "spark_lake.sql").read_text()
    found = re.search(r"{% macro default__kith_sql_string\(value\) -%}.*?{%- endmacro %}", source, re.S)
    assert found, "default__kith_sql_string not found in macros/cross_db/spark_lake.sql"
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["return"] = lambda value: value
    for rule in [*INJECTIONS, "it's", "''", "\\'; select 1; --", "\n' or true --"]:
        rendered = env.from_string(found.group(0) + "{{ default__kith_sql_string(rule) }}").render(rule=rule)
        assert duckdb.connect().execute(f"select {rendered}").fetchone() == (rule,)
