"""Incremental identity resolution equals a full recompute.

A 300-customer sample is built from its first delivery (files up to 2026-10-20). The second
delivery (from 2026-10-21) arrives with three hand-made records on top, chosen from the first
build so that each exercises a hard case of the incremental path:

- a helpdesk ticket carrying the email of one existing customer and the phone of another: the two
  customers merge;
- a new CRM contact carrying the email of a customer who already has a CRM id: the email now links
  two CRM ids, becomes shared, and its edges disappear from the graph;
- a new version of an existing CRM contact with another email: the old email's edge disappears.

The warehouse is copied after ingestion; the original is built incrementally, the copy with
`--full-refresh`, and the identity tables must hold the same rows (node ids aside: an incremental
build keeps them, a full one renumbers). Then a person is erased (`kith forget`): the next build
must fall back to a full recompute and say why, and equal a full refresh again.

Everything goes through the CLI (`kith generate | ingest | build | forget`), as a user would run it.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_kith

pytestmark = pytest.mark.slow

CUSTOMERS = 300
SEED = 3
FIRST_UNTIL = "2026-10-20"
SECOND_FROM = "2026-10-21"
INJECTED_DAY = "2026-11-01"  # after every generated file, so loaded last
NEW_CRM_ID = "KITH-INCREMENTAL-SHARED"
MOVED_EMAIL = "kith.incremental.moved@fastmail.com"
# identity models and marts, the registry included, and no tests: the comparison is the test
BUILD = [
    "build",
    "--select",
    "+dim_customer_identifiers",
    "+fct_customer_id_changes",
    "int_customer_id_registry",
    "--exclude-resource-type",
    "test",
    "unit_test",
]
FULL_RECOMPUTE = "Identity resolution: full recompute:"
# table -> columns compared (node and cluster ids are internal numbering; times are run times)
TABLES = {
    "marts.dim_customer_identifiers": "*",
    "marts.fct_customer_id_changes": "* exclude (customer_id_change_id, changed_at)",
    "intermediate.int_customer_id_registry": "* exclude (issued_at)",
    "intermediate.int_customer_ids_assigned": "* exclude (node_id, cluster_id)",
    "intermediate.int_identifiers_unioned": "*",
    "intermediate.int_identity_edges_built": "*",
    "intermediate.int_identity_nodes": "* exclude (node_id, refreshed_at)",
}


@dataclass(frozen=True)
class Scenario:
    merged: tuple[tuple[str, str], tuple[str, str]]  # an identifier of each customer to merge
    shared_email: str
    moved_crm_id: str
    old_email: str


@dataclass(frozen=True)
class Builds:
    scenario: Scenario
    first_build: Path
    incremental: Path
    full_refresh: Path
    incremental_log: str
    after_forget: Path
    after_forget_full_refresh: Path
    after_forget_log: str


def _kith(env: dict[str, str], *args: str) -> str:
    proc = run_kith(env, *args)
    assert proc.returncode == 0, f"kith {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout + proc.stderr


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def _choose(warehouse: Path) -> tuple[Scenario, dict]:
    """Customers of the first build for the three cases (deterministic for the seed)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # two customers that stay within every cap once merged: one with a usable email, the other
        # with a usable phone whose other emails leave room for one more
        merged = con.execute(
            """
            with counts as (
                select d.customer_id, r.identifier_type, count(*) as n
                from marts.dim_customer_identifiers as d
                inner join seeds.identity_rules as r using (identifier_type)
                group by all
            ),
            pairs as (
                select a.customer_id as customer_a, b.customer_id as customer_b
                from (select distinct customer_id from counts) as a
                cross join (select distinct customer_id from counts) as b
                where a.customer_id < b.customer_id
            ),
            within_caps as (
                select pairs.customer_a, pairs.customer_b
                from pairs
                left join counts as ca on pairs.customer_a = ca.customer_id
                left join counts as cb
                    on pairs.customer_b = cb.customer_id and ca.identifier_type = cb.identifier_type
                left join seeds.identity_rules as r on ca.identifier_type = r.identifier_type
                group by all
                having bool_and(r.max_per_customer is null or ca.n + coalesce(cb.n, 0) <= r.max_per_customer)
            )
            select e.identifier_value as email, p.identifier_value as phone
            from within_caps
            inner join marts.dim_customer_identifiers as e
                on within_caps.customer_a = e.customer_id and e.identifier_type = 'email'
            inner join marts.dim_customer_identifiers as p
                on within_caps.customer_b = p.customer_id and p.identifier_type = 'phone'
            where
                (
                    select count(*) from counts
                    where customer_id = within_caps.customer_b and identifier_type = 'email'
                ) < 3
                and not exists (
                    select 1 from counts where customer_id = within_caps.customer_a and identifier_type = 'phone'
                )
            order by e.identifier_value, p.identifier_value
            limit 1
            """
        ).fetchone()
        assert merged, "no pair of customers to merge within the caps"
        # an email held with exactly one CRM id, by a customer with no other email
        (shared_email,) = con.execute(
            """
            select e.identifier_value
            from marts.dim_customer_identifiers as e
            inner join marts.dim_customer_identifiers as c
                on e.customer_id = c.customer_id and c.identifier_type = 'crm_id'
            where e.identifier_type = 'email' and e.identifier_value not in (?, ?)
            order by 1
            limit 1
            """,
            list(merged),
        ).fetchone()
        # a CRM contact with a usable email of its own (not one used above), re-sent with another
        moved = con.execute(
            """
            select c.*
            from raw_crm.contacts as c
            inner join marts.dim_customer_identifiers as e
                on lower(c.email) = e.identifier_value and e.identifier_type = 'email'
            inner join intermediate.int_identity_edges_built as edge
                on
                    edge.identifier_type_a = 'crm_id' and edge.identifier_value_a = c.crm_id
                    and edge.identifier_type_b = 'email' and edge.identifier_value_b = e.identifier_value
            -- the contact alone shows the pair: re-sent with another email, the edge must go
            where e.identifier_value not in (?, ?, ?) and edge.record_count = 1 and lower(c.email) = c.email
            order by c.crm_id
            limit 1
            """,
            [*merged, shared_email],
        ).fetchdf()
        assert len(moved) == 1, "no CRM contact to re-send"
        row = moved.iloc[0].to_dict()
    finally:
        con.close()
    scenario = Scenario((("email", merged[0]), ("phone", merged[1])), shared_email, row["crm_id"], row["email"])
    return scenario, row


def _inject(landing: Path, scenario: Scenario, moved_row: dict) -> None:
    tickets = landing / "helpdesk" / "tickets" / f"{INJECTED_DAY}.jsonl"
    tickets.parent.mkdir(parents=True, exist_ok=True)
    ticket = {
        "ticket_id": "kith-incremental-merge",
        "channel": "email",
        "requester": {"email": scenario.merged[0][1], "phone": scenario.merged[1][1], "name": "test"},
        "topic": "account",
        "subject": "Two accounts",
        "status": "open",
        "created_at": f"{INJECTED_DAY}T09:00:00Z",
        "updated_at": f"{INJECTED_DAY}T09:00:00Z",
    }
    tickets.write_text(json.dumps(ticket) + "\n", encoding="utf-8")
    columns = [c for c in moved_row if not c.startswith("_")]
    contacts = landing / "crm" / "contacts" / f"{INJECTED_DAY}.csv"
    with contacts.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        stamp = f"{INJECTED_DAY}T10:00:00"
        writer.writerow(
            {c: "" for c in columns}
            | {"crm_id": NEW_CRM_ID, "email": scenario.shared_email, "created_at": stamp, "updated_at": stamp}
        )
        moved = {c: ("" if moved_row[c] is None or moved_row[c] != moved_row[c] else moved_row[c]) for c in columns}
        for c in ("created_at", "updated_at", "date_of_birth"):
            if moved[c] != "":
                moved[c] = moved[c].isoformat() if hasattr(moved[c], "isoformat") else moved[c]
        for c in ("email_opt_in", "sms_opt_in"):
            if moved[c] != "":
                moved[c] = "1" if moved[c] else "0"
        writer.writerow(moved | {"email": MOVED_EMAIL, "updated_at": stamp})


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("incremental_identity")
    landing = root / "landing"
    env = {
        "KITH_LANDING": str(landing),
        "KITH_GROUND_TRUTH": str(root / "truth"),
        "KITH_WAREHOUSE": str(root / "warehouse" / "kith.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "KITH_REPORTS": str(root / "reports"),
        "KITH_THREADS": "4",
    }
    # the copies are rebuilt with --full-refresh under their own target (dbt re-parses per warehouse)
    full_env = env | {"DBT_TARGET_PATH": str(root / "target_full"), "DBT_LOG_PATH": str(root / "logs_full")}
    warehouse = Path(env["KITH_WAREHOUSE"])

    _kith(env, "generate", "--customers", str(CUSTOMERS), "--seed", str(SEED), "--emit-until", FIRST_UNTIL)
    _kith(env, "ingest")
    _kith(env, *BUILD)
    first_build = _copy(warehouse, root / "first_build.duckdb")

    second = root / "landing_second"
    _kith(
        env,
        "generate",
        "--customers",
        str(CUSTOMERS),
        "--seed",
        str(SEED),
        "--emit-from",
        SECOND_FROM,
        "--out",
        str(second),
        "--truth",
        str(root / "truth_second"),
    )
    shutil.copytree(second, landing, dirs_exist_ok=True)
    scenario, moved_row = _choose(first_build)
    _inject(landing, scenario, moved_row)
    _kith(env, "ingest")

    full_refresh = _copy(warehouse, root / "full" / "kith.duckdb")
    incremental_log = _kith(env, *BUILD)
    incremental = _copy(warehouse, root / "incremental.duckdb")
    _kith(full_env | {"KITH_WAREHOUSE": str(full_refresh)}, *BUILD, "--full-refresh")

    # erase the customer whose CRM contact moved email (forget resolves people through
    # dim_customers): the next build must recompute in full
    _kith(env, "build", "--select", "+dim_customers", "--exclude-resource-type", "test", "unit_test")
    _kith(env, "forget", scenario.moved_crm_id)
    after_forget_full_refresh = _copy(warehouse, root / "full_after_forget" / "kith.duckdb")
    after_forget_log = _kith(env, *BUILD)
    _kith(full_env | {"KITH_WAREHOUSE": str(after_forget_full_refresh)}, *BUILD, "--full-refresh")
    return Builds(
        scenario,
        first_build,
        incremental,
        full_refresh,
        incremental_log,
        warehouse,
        after_forget_full_refresh,
        after_forget_log,
    )


def _except_all(left: Path, right: Path, table: str) -> tuple[int, int, list[tuple]]:
    """Rows only in `left`, rows only in `right` (compared columns of TABLES), and examples."""
    columns = TABLES[table]
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as lhs (read_only)")
        con.execute(f"attach '{right}' as rhs (read_only)")
        only_left = f"select {columns} from lhs.{table} except all select {columns} from rhs.{table}"
        only_right = f"select {columns} from rhs.{table} except all select {columns} from lhs.{table}"
        (n_left,) = con.execute(f"select count(*) from ({only_left})").fetchone()
        (n_right,) = con.execute(f"select count(*) from ({only_right})").fetchone()
        examples = con.execute(f"({only_left} limit 3) union all ({only_right} limit 3)").fetchall()
        return n_left, n_right, examples
    finally:
        con.close()


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("table", list(TABLES))
def test_incremental_build_equals_full_refresh(builds: Builds, table: str) -> None:
    n_incremental, n_full, examples = _except_all(builds.incremental, builds.full_refresh, table)
    assert (n_incremental, n_full) == (0, 0), f"{table}: incremental and full refresh differ: {examples}"


@pytest.mark.parametrize("table", list(TABLES))
def test_build_after_an_erasure_equals_full_refresh(builds: Builds, table: str) -> None:
    n_incremental, n_full, examples = _except_all(builds.after_forget, builds.after_forget_full_refresh, table)
    assert (n_incremental, n_full) == (0, 0), f"{table}: build after forget and full refresh differ: {examples}"


def test_the_comparison_sees_a_difference(builds: Builds) -> None:
    """The comparison can fail: the first build and the full refresh (more data) differ."""
    n_first, n_full, _ = _except_all(builds.first_build, builds.full_refresh, "marts.dim_customer_identifiers")
    assert n_first + n_full > 0


def test_the_build_was_incremental(builds: Builds) -> None:
    """Not a full recompute in disguise: only the new records were read, node ids were kept."""
    assert FULL_RECOMPUTE not in builds.incremental_log
    ((changed, unioned),) = _query(
        builds.incremental,
        "select (select count(*) from intermediate.int_identifiers_changed where is_current),"
        " (select count(*) from intermediate.int_identifiers_unioned)",
    )
    assert 0 < changed < unioned / 2
    con = duckdb.connect()
    try:
        con.execute(f"attach '{builds.first_build}' as f (read_only)")
        con.execute(f"attach '{builds.incremental}' as i (read_only)")
        (moved_ids,) = con.execute(
            "select count(*) from f.intermediate.int_identity_nodes as f"
            " inner join i.intermediate.int_identity_nodes as i using (identifier_type, identifier_value)"
            " where f.node_id <> i.node_id"
        ).fetchone()
    finally:
        con.close()
    assert moved_ids == 0


def _customer_of(warehouse: Path, identifier: tuple[str, str]) -> str | None:
    rows = _query(
        warehouse,
        "select customer_id from marts.dim_customer_identifiers where identifier_type = ? and identifier_value = ?",
        list(identifier),
    )
    return rows[0][0] if rows else None


def test_the_delivery_merges_two_customers(builds: Builds) -> None:
    a, b = builds.scenario.merged
    assert _customer_of(builds.first_build, a) != _customer_of(builds.first_build, b)
    assert _customer_of(builds.incremental, a) == _customer_of(builds.incremental, b) is not None


def test_the_delivery_makes_an_email_shared(builds: Builds) -> None:
    sql = (
        "select exclusion_reason from intermediate.int_identity_nodes"
        " where identifier_type = 'email' and identifier_value = ?"
    )
    assert _query(builds.first_build, sql, [builds.scenario.shared_email]) == [(None,)]
    ((reason,),) = _query(builds.incremental, sql, [builds.scenario.shared_email])
    assert reason is not None and reason.startswith("shared: links 2 crm_id")


def test_the_moved_email_loses_its_edge(builds: Builds) -> None:
    sql = (
        "select count(*) from intermediate.int_identity_edges_built"
        " where identifier_type_a = 'crm_id' and identifier_value_a = ? and identifier_type_b = 'email'"
        " and identifier_value_b = lower(?)"
    )
    assert _query(builds.first_build, sql, [builds.scenario.moved_crm_id, builds.scenario.old_email]) == [(1,)]
    assert _query(builds.incremental, sql, [builds.scenario.moved_crm_id, builds.scenario.old_email]) == [(0,)]
    assert _query(builds.incremental, sql, [builds.scenario.moved_crm_id, MOVED_EMAIL]) == [(1,)]


def test_an_erasure_makes_the_next_build_recompute_in_full(builds: Builds) -> None:
    assert f"{FULL_RECOMPUTE} 1 erasure(s) (kith forget) since the last build" in builds.after_forget_log
