"""`kith forget`: a person is erased from every file and table, the erasure survives the next ingest
and build (a build killed half-way included), and the log keeps no personal data.

The person and what must disappear come from the generator's ground truth (every identifier as it
was typed into each system, and every record), never from the code under test.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import Sample, run_kith
from tests.reliability.conftest import copy_sample, kill_when, kith_process, query, truth_rows

# ground-truth identifier type -> id-map type and the warehouse macro that normalises it
TRUTH_TYPES = {
    "email": ("email", "functions.canonical_email(value)"),
    "phone": ("phone", "functions.normalize_phone_e164(value)"),
    "loyalty_number": ("loyalty_number", "functions.normalize_loyalty_number(value)"),
    "crm_id": ("crm_id", "trim(value)"),
    "shop_customer_id": ("shop_customer_id", "trim(value)"),
    "card_token": ("card_token", "trim(value)"),
    "anonymous_id": ("cookie_id", "trim(value)"),
    "device_id": ("device_id", "trim(value)"),
}
# how a ground-truth record is found in the marts: (mart, key expression)
RECORD_IN_MARTS = {
    ("web", "events"): ("fct_touchpoints", "touchpoint_id", "'web:' || record_id"),
    ("app", "events"): ("fct_touchpoints", "touchpoint_id", "'app:' || record_id"),
    ("qr", "scans"): ("fct_touchpoints", "touchpoint_id", "'qr:' || record_id"),
    ("helpdesk", "tickets"): ("fct_touchpoints", "touchpoint_id", "'helpdesk:' || record_id"),
    ("consent", "events"): ("fct_touchpoints", "touchpoint_id", "'consent:' || record_id"),
    ("shop", "orders"): ("fct_orders", "order_id", "record_id"),
    ("pos", "transactions"): ("fct_orders", "order_id", "record_id"),
}


@dataclass
class Person:
    person_id: str
    customer_id: str
    email: str
    search: list[str]  # lower-case strings no file or table may contain afterwards
    records: list[tuple[str, str, str]]


def _canonical_email(email: str) -> str:
    """Independent of the macros: trimmed, lower-case, Gmail dots and +tags folded."""
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+")[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _e164(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("44") and len(digits) == 12:
        digits = digits[2:]
    digits = digits.lstrip("0")
    return f"+44{digits}" if len(digits) == 10 else None


def choose_person(warehouse: Path, truth: Path) -> Person:
    """A person identity resolution got exactly right (every identifier and record on one customer
    that holds nobody else), with the most records: what Kith can erase must then be all of them."""
    identifiers = truth_rows(truth, "identifiers.csv")
    records = truth_rows(truth, "records.csv")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.register(
            "truth_ids",
            pa.table(
                {
                    "truth_type": [r["identifier_type"] for r in identifiers],
                    "value": [r["identifier_value"] for r in identifiers],
                    "person_id": [r["person_id"] for r in identifiers],
                }
            ),
        )
        con.register(
            "truth_records",
            pa.table({k: [r[k] for r in records] for k in ("system", "entity", "record_id", "person_id")}),
        )
        normalised = " union all ".join(
            f"select person_id, '{kind}' as identifier_type, {sql} as identifier_value from truth_ids "
            f"where truth_type = '{truth_type}'"
            for truth_type, (kind, sql) in TRUTH_TYPES.items()
        )
        in_marts = " union all ".join(
            f"select truth_records.person_id, m.customer_id from truth_records "
            f"left join marts.{mart} as m on m.{key} = {expression} "
            f"where system = '{system}' and entity = '{entity}'"
            for (system, entity), (mart, key, expression) in RECORD_IN_MARTS.items()
        )
        rows = con.execute(
            f"""
            with ids as ({normalised}),
            mapped as (
                select ids.person_id, ids.identifier_value, map.customer_id
                from ids left join marts.dim_customer_identifiers as map using (identifier_type, identifier_value)
            ),
            per_person as (
                select person_id, count(distinct customer_id) as customers, count(*) - count(customer_id) as unmapped,
                    any_value(customer_id) as customer_id
                from (select person_id, customer_id from mapped union all select * from ({in_marts}))
                group by 1
            ),
            per_customer as (
                select customer_id, count(distinct person_id) as persons from mapped where customer_id is not null
                group by 1
            )
            select per_person.person_id, per_person.customer_id
            from per_person inner join per_customer using (customer_id)
            inner join marts.dim_customers as c using (customer_id)
            where per_person.customers = 1 and per_person.unmapped = 0 and per_customer.persons = 1
                and c.email is not null
            order by (select count(*) from truth_records as r where r.person_id = per_person.person_id) desc,
                per_person.person_id
            limit 1
            """
        ).fetchall()
        assert rows, "no person of the sample is resolved exactly"
        person_id, customer_id = rows[0]
        (email,) = con.execute("select email from marts.dim_customers where customer_id = ?", [customer_id]).fetchone()
    finally:
        con.close()
    mine = [r for r in identifiers if r["person_id"] == person_id]
    shared = {r["identifier_value"] for r in identifiers if r["person_id"] != person_id}
    search = {customer_id.lower()}
    for r in mine:
        value = r["identifier_value"].strip()
        if value in shared or len(value) < 6:
            continue
        search.add(value.lower())
        if r["identifier_type"] == "email":
            search.add(_canonical_email(value))
        if r["identifier_type"] == "phone" and _e164(value):
            search.add(_e164(value).lower())
    person_records = [(r["system"], r["entity"], r["record_id"]) for r in records if r["person_id"] == person_id]
    search |= {record_id.lower() for _, _, record_id in person_records if len(record_id) >= 6}
    return Person(person_id, customer_id, email, sorted(search), person_records)


def files_holding(root: Path, needles: list[str], skip: set[str]) -> list[str]:
    """Every file under root (binary files too, e.g. the warehouse) holding a needle, case-insensitive
    (GNU grep's fixed-string search: one pass for all needles)."""
    patterns = root.parent / f".{root.name}-needles"
    patterns.write_text("\n".join(needles) + "\n")
    try:
        proc = subprocess.run(
            ["grep", "-rFail", "-f", str(patterns), str(root)], capture_output=True, text=True, check=False
        )
    finally:
        patterns.unlink()
    assert proc.returncode in (0, 1), proc.stderr
    found = [Path(line).relative_to(root) for line in proc.stdout.splitlines() if line]
    return sorted(p.as_posix() for p in found if not set(p.parts) & skip)


def tables_holding(warehouse: Path, needles: list[str]) -> dict[str, int]:
    pattern = "|".join(re.escape(n) for n in needles)
    found = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where not internal order by 1, 2"
        ).fetchall():
            (n,) = con.execute(
                f'select count(*) from "{schema}"."{table}" as t where regexp_matches(lower(cast(t as varchar)), ?)',
                [pattern],
            ).fetchone()
            if n:
                found[f"{schema}.{table}"] = n
    finally:
        con.close()
    return found


COUNTED = (
    "marts.fct_orders",
    "marts.fct_order_lines",
    "marts.fct_touchpoints",
    "marts.dim_customers",
    "marts.dim_customer_identifiers",
    "intermediate.int_identifiers_unioned",
    "intermediate.int_customer_id_registry",
)


def _counts(warehouse: Path) -> dict[str, int]:
    return {t: query(warehouse, f"select count(*) from {t}")[0][0] for t in COUNTED}


@dataclass
class Erased:
    root: Path
    env: dict[str, str]
    person: Person
    request: str
    duplicate: str
    before: dict[str, list[bytes]]  # rewritten landing files' lines before the erasure
    forget: subprocess.CompletedProcess
    counts: dict[str, int]


@pytest.fixture(scope="module")
def erased(built_sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> Erased:
    root = tmp_path_factory.mktemp("forget")
    env = copy_sample(built_sample, root)
    landing, warehouse = Path(env["KITH_LANDING"]), Path(env["KITH_WAREHOUSE"])
    person = choose_person(warehouse, Path(env["KITH_GROUND_TRUTH"]))
    # the same delivery sent a second time, under another name: it holds the person too
    holding = files_holding(landing, [person.email.lower()], set())
    assert holding, "the person's email is in no landing file"
    original = landing / holding[0]
    duplicate = original.with_name(original.stem + "-resent" + original.suffix)
    shutil.copy2(original, duplicate)
    proc = run_kith(env, "ingest")
    assert proc.returncode == 0, proc.stderr
    before = {p.relative_to(landing).as_posix(): p.read_bytes().split(b"\n") for p in landing.rglob("*") if p.is_file()}
    request = f"  {person.email.upper()} "  # typed as a person would
    forget = run_kith(env, "forget", request)
    return Erased(
        root, env, person, request, duplicate.relative_to(landing).as_posix(), before, forget, _counts(warehouse)
    )


SKIP = {"truth", "target", "logs"}  # the generator's oracle and dbt's artefacts are not Kith data


def test_forget_succeeds_and_verifies_itself(erased: Erased) -> None:
    assert erased.forget.returncode == 0, erased.forget.stdout + erased.forget.stderr
    assert f"erased customer {erased.person.customer_id}" in erased.forget.stdout
    assert "verified: no identifier of the person is left" in erased.forget.stdout


def test_no_file_and_no_table_holds_the_person(erased: Erased) -> None:
    assert files_holding(erased.root, erased.person.search, SKIP) == []
    assert tables_holding(Path(erased.env["KITH_WAREHOUSE"]), erased.person.search) == {}


def test_only_the_persons_lines_were_emptied_and_every_other_line_kept_its_place(erased: Erased) -> None:
    """Lines keep their numbers (raw lineage stays true); an emptied line held one of the person's
    identifiers or records (nobody else's line was erased); no kept line holds the person (the
    search of every file above)."""
    landing = Path(erased.env["KITH_LANDING"])
    changed = 0
    for path, old_lines in erased.before.items():
        new_lines = (landing / path).read_bytes().split(b"\n")
        assert len(new_lines) == len(old_lines), path
        for old, new in zip(old_lines, new_lines, strict=True):
            if old != new:
                changed += 1
                assert new.strip() == b"" and old.strip(), path
                text = old.decode(errors="replace").lower()
                assert any(needle in text for needle in erased.person.search), f"{path}: {old[:200]!r}"
    assert changed >= len(erased.person.records)
    assert (landing / erased.duplicate).read_bytes() == (landing / erased.duplicate.replace("-resent", "")).read_bytes()


def test_the_log_holds_a_hash_of_the_request_and_no_personal_data(erased: Erased) -> None:
    warehouse = erased.env["KITH_WAREHOUSE"]
    ((request_hash, status, customers),) = query(
        warehouse, "select request_sha256, status, customers from privacy.erasure_log"
    )
    assert request_hash == hashlib.sha256(erased.request.strip().encode()).hexdigest()
    assert (status, customers) == ("completed", 1)
    assert query(warehouse, "select count(*) from privacy.landing_rewrites where erased_lines is not null") == [(0,)]
    assert query(warehouse, "select count(*) from privacy.landing_rewrites where file_path = ?", [erased.duplicate])


def test_forgetting_again_finds_nobody(erased: Erased) -> None:
    again = run_kith(erased.env, "forget", erased.person.email)
    assert again.returncode == 2
    assert "no customer found" in again.stderr and "nothing was erased" in again.stderr


def test_the_audit_explains_the_erasure(erased: Erased) -> None:
    audit = run_kith(erased.env, "audit")
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr
    report = json.loads((Path(erased.env["KITH_REPORTS"]) / "audit.json").read_text())
    assert report["erasures"] == 1
    assert sum(flow["erased"] for flow in report["flows"]) >= len(erased.person.records)


def test_the_next_ingest_and_build_do_not_bring_the_person_back(erased: Erased) -> None:
    """Runs last in this module: it rebuilds the warehouse (tests/reliability/test_slow.py kills that
    build half-way first)."""
    assert_rebuild_keeps_the_erasure(erased, kill_after_models=None)


def assert_rebuild_keeps_the_erasure(erased: Erased, kill_after_models: int | None) -> None:
    env, warehouse = erased.env, Path(erased.env["KITH_WAREHOUSE"])
    ingest = run_kith(env, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "0 rows read = 0 loaded + 0 rejected" in ingest.stdout  # rewritten files are known deliveries
    if kill_after_models:
        log = Path(env["DBT_LOG_PATH"]) / "dbt.log"
        log.unlink(missing_ok=True)

        def models_built() -> int:
            return log.read_text(errors="replace").count(" OK created ") if log.exists() else 0

        build = kith_process(env, "build")
        assert kill_when(build, lambda: models_built() >= kill_after_models), "the build ended before the kill"
    rebuilt = run_kith(env, "build")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    leftovers = query(
        warehouse,
        "select table_name from duckdb_tables() where table_name like '%dbt_tmp%' or table_name like '%dbt_backup%'",
    )
    assert leftovers == []
    assert files_holding(erased.root, erased.person.search, SKIP) == []
    assert tables_holding(warehouse, erased.person.search) == {}
    # the rebuild agrees with what the erasure deleted directly
    assert _counts(warehouse) == erased.counts
    audit = run_kith(env, "audit")
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr


KILL_BEFORE_LANDING = """
import os, signal, sys
from pathlib import Path
import kith.privacy.erase as erase

def die(*args, **kwargs):  # the warehouse is purged and the rewrites recorded; no file swapped yet
    os.kill(os.getpid(), signal.SIGKILL)

erase.swap_in = die
from kith.config import Paths
erase.forget(Paths.from_env(), sys.argv[1])
"""


def test_an_erasure_killed_before_the_landing_files_were_swapped_is_finished_by_the_next_ingest(
    built_sample: Sample, tmp_path: Path
) -> None:
    env = copy_sample(built_sample, tmp_path)
    landing, warehouse = Path(env["KITH_LANDING"]), Path(env["KITH_WAREHOUSE"])
    person = choose_person(warehouse, Path(env["KITH_GROUND_TRUTH"]))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_LANDING, person.email],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    assert files_holding(landing, person.search, set())  # the files still hold the person
    assert query(warehouse, "select status from privacy.erasure_log") == [("landing_pending",)]
    ingest = run_kith(env, "ingest")
    assert ingest.returncode == 0, ingest.stderr
    assert "0 rows read = 0 loaded + 0 rejected" in ingest.stdout
    assert files_holding(landing, person.search, set()) == []
    assert not list(landing.rglob("*.kith-erasure"))
    assert query(warehouse, "select status from privacy.erasure_log") == [("completed",)]
    assert tables_holding(warehouse, [person.customer_id.lower(), _canonical_email(person.email)]) == {}


def test_a_dry_run_changes_nothing(built_sample: Sample, tmp_path: Path) -> None:
    env = copy_sample(built_sample, tmp_path)
    landing, warehouse = Path(env["KITH_LANDING"]), Path(env["KITH_WAREHOUSE"])
    person = choose_person(warehouse, Path(env["KITH_GROUND_TRUTH"]))
    files = {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()}
    counts = _counts(warehouse)
    dry = run_kith(env, "forget", "--dry-run", person.customer_id)
    assert dry.returncode == 0, dry.stderr
    assert "would erase customer" in dry.stdout and "nothing was changed" in dry.stdout
    assert {p: p.read_bytes() for p in landing.rglob("*") if p.is_file()} == files
    assert _counts(warehouse) == counts
