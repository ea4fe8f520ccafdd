"""``kith activate`` and ``activation.yml``: mistakes are one line; a dry run sends and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import FakeTool, Setup, file_destination, http_destination, person

from kith.cli import main
from kith.config import PROJECT_DIR, UserError
from pipelines.activation.config import load_config, parse_config


@pytest.fixture()
def cli(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> Setup:
    setup.warehouse.audience("winback", [person(i) for i in range(1, 11)])  # c010 has no email
    setup.warehouse.grant_all([setup.warehouse.consent(i, "email") for i in range(1, 11) if i != 9])
    setup.write_config([file_destination(setup)])
    monkeypatch.setenv("KITH_WAREHOUSE", str(setup.warehouse.path))
    monkeypatch.setenv("KITH_REPORTS", str(setup.reports))
    monkeypatch.setenv("KITH_ACTIVATION_CONFIG", str(setup.config_path))
    return setup


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str], *fragments: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_audience_or_destination(cli: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    one_line_error(capsys, ["activate", "nope"], "kith activate: error: unknown audience 'nope'", "winback")
    one_line_error(capsys, ["activate", "-d", "fax"], "kith activate: error: unknown destination 'fax'", "email_files")


def test_an_unconfigured_destination_asked_for_by_name(
    cli: Setup, fake_tool: FakeTool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.write_config([file_destination(cli), http_destination(fake_tool, monkeypatch, url_env="KITH_TEST_UNSET")])
    monkeypatch.delenv("KITH_TEST_UNSET", raising=False)
    one_line_error(
        capsys, ["activate", "-d", "sms_tool"], "destination sms_tool is not configured: set KITH_TEST_UNSET"
    )


def test_no_audiences_yet(cli: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    cli.warehouse.query("drop table marts.aud_winback")
    one_line_error(capsys, ["activate"], "no audience tables (marts.aud_*)")


def test_an_audience_the_config_lists_but_the_warehouse_lacks_fails_only_its_own_sync(
    cli: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    cli.write_config([file_destination(cli, audiences=["winback", "vip"])])
    assert main(["activate"]) == 1
    printed = capsys.readouterr().out
    assert "winback -> email_files: " in printed and "8 changes acknowledged" in printed
    assert "vip -> email_files: " in printed and "(failed: marts.aud_vip does not exist" in printed
    history = cli.warehouse.query("select audience, status from activation.sync_history order by 1")
    assert history == [("vip", "failed"), ("winback", "success")]


def test_a_broken_audience_contract_stops_before_sending(cli: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    cli.warehouse.query("insert into marts.aud_winback select * from marts.aud_winback limit 1")
    one_line_error(capsys, ["activate"], "marts.aud_winback must hold one row per customer: 1 duplicated")
    assert not cli.exports("email_files", "winback").exists()


def test_dry_run_prints_the_changes_and_sends_and_changes_nothing(
    cli: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["activate", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    row = next(ln for ln in printed.splitlines() if "winback" in ln and "email_files" in ln and "dry run" in ln)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "winback", "email_files", "10", "0", "1", "1", "8", "0", "0", "-", "dry run",
    ]  # fmt: skip
    assert "dry run: nothing was sent and no state changed" in printed
    assert not cli.exports("email_files", "winback").exists()
    assert cli.warehouse.query("select count(*) from information_schema.schemata where schema_name = 'activation'") == [
        (0,)
    ]
    assert main(["activate"]) == 0
    assert "8 changes acknowledged" in capsys.readouterr().out
    assert main(["activate"]) == 0
    assert "0 changes acknowledged" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "ftp"}, "kind must be one of file, http, database"),
        ({"token": "abc"}, "'token': secrets and endpoints never live in this file"),
        ({"url": "https://x"}, "name the environment variable that holds it (e.g. url_env"),
        ({"consent": None}, "consent is empty; write `consent: none`"),
        ({"consent": {"channel": "fax", "purpose": "marketing"}}, "consent channel must be one of"),
        ({"bach_size": 5}, "unknown setting 'bach_size'"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"url_env": "not an env name"}, "url_env names an environment variable"),
        ({"identifiers": ["fax"]}, "identifiers must be some of email, phone_e164"),
        ({"name": "SMS Tool"}, "name must be lowercase letters"),
    ],
)
def test_config_mistakes_name_the_destination_and_setting(change: dict, message: str) -> None:
    destination = {"name": "sms_tool", "kind": "http", "url_env": "KITH_SMS_URL", "consent": "none", **change}
    with pytest.raises(UserError) as caught:
        parse_config({"destinations": [destination]}, Path("activation.yml"))
    assert message in str(caught.value) and str(caught.value).startswith("activation.yml:")


def test_config_needs_an_explicit_consent_and_valid_shares() -> None:
    with pytest.raises(UserError, match="consent is required"):
        parse_config({"destinations": [{"name": "f", "kind": "file", "path": "f"}]}, Path("a.yml"))
    with pytest.raises(UserError, match="control_share must be a number from 0 to below 1"):
        parse_config(
            {"audiences": {"vip": {"control_share": 1}}, "destinations": [{"name": "f", "kind": "file", "path": "f"}]},
            Path("a.yml"),
        )


def test_the_shipped_config_covers_every_kind_of_tool() -> None:
    config = load_config(PROJECT_DIR / "activation.yml")
    by_name = {d.name: d for d in config.destinations}
    kinds = {(d.kind, d.settings.get("format")) for d in config.destinations}
    assert {("file", "csv"), ("file", "parquet"), ("http", None), ("database", None)} <= kinds
    assert by_name["ad_platform"].hash_identifiers and by_name["ad_platform"].attributes == ()
    marketing = [d for d in config.destinations if d.consents]
    assert {str(c) for d in marketing for c in d.consents} >= {"email/marketing", "sms/marketing", "ads/profiling"}
    assert {d.name for d in config.destinations if not d.consents} == {"crm", "call_centre"}
    assert 0 < config.audience_defaults.control_share < 0.5
    text = yaml.safe_load((PROJECT_DIR / "activation.yml").read_text())
    for d in text["destinations"]:  # no endpoint or secret in the file itself
        assert not [v for v in d.values() if isinstance(v, str) and "://" in v], d["name"]
