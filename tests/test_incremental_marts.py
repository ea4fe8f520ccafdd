"""Incremental marts equal a full refresh.

A sample is generated in two deliveries (files dated up to 2026-10-20, then from 2026-10-21: late
web and app events, order status changes and returns of the first period arrive in the second).
The first delivery is ingested and built, then the second is ingested and the marts are built
incrementally; a copy of that warehouse is rebuilt with `--full-refresh`, and the two must hold
exactly the same rows in fct_touchpoints, fct_order_lines and fct_orders.

It runs twice: with the project's vars, and with a stress setting (lookback 0 days, 7-day session
timeout) where the lookback window catches nothing, so every late event must be found by its load
time, and many sessions continue across the incremental boundary.

Everything goes through the CLI (`kith generate | ingest | build`), as a user would run it.
"""

from __future__ import annotations

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
MARTS = ("fct_touchpoints", "fct_order_lines", "fct_orders")
# the marts, their parents (identity resolution included) and no tests: the comparison is the test
UPSTREAM = ["--select", "+fct_touchpoints", "+fct_orders", "--exclude-resource-type", "test", "unit_test"]
ONLY_MARTS = ["--select", *MARTS, "--exclude-resource-type", "test", "unit_test"]
VARIANTS = {
    "project_vars": [],
    "stress": ["--vars", "{kith__lookback_days: 0, kith__session_timeout_minutes: 10080}"],
}


@dataclass(frozen=True)
class Variant:
    first_build: Path  # the first delivery, built
    incremental: Path  # then the second delivery, built incrementally
    full_refresh: Path  # the same warehouse, marts rebuilt with --full-refresh
    rerun: Path | None  # the incremental build run again with nothing new, data tests included


def _kith(env: dict[str, str], *args: str) -> None:
    proc = run_kith(env, *args)
    assert proc.returncode == 0, f"kith {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"


def _copy_warehouse(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Variant]:
    """Each variant builds in one warehouse file (dbt re-parses the project when the profile's
    warehouse path changes) and keeps copies of its states for the comparisons."""
    root = tmp_path_factory.mktemp("incremental")
    landing, second = root / "landing", root / "landing_second"
    envs = {
        name: {
            "KITH_LANDING": str(landing),
            "KITH_GROUND_TRUTH": str(root / "truth"),
            "KITH_WAREHOUSE": str(root / name / "warehouse" / "kith.duckdb"),
            # one target per variant: its vars and warehouse stay the same, so partial parsing applies
            "DBT_TARGET_PATH": str(root / name / "target"),
            "DBT_LOG_PATH": str(root / name / "logs"),
            "KITH_THREADS": "4",
        }
        for name in VARIANTS
    }

    def warehouse(name: str) -> Path:
        return Path(envs[name]["KITH_WAREHOUSE"])

    # first delivery: ingested and built once with the project's vars ...
    base = envs["project_vars"]
    _kith(base, "generate", "--customers", str(CUSTOMERS), "--seed", str(SEED), "--emit-until", FIRST_UNTIL)
    _kith(base, "ingest")
    _kith(base, "build", *UPSTREAM)
    # ... and for the other variants, the marts rebuilt under their vars
    for name, dbt_vars in VARIANTS.items():
        if name != "project_vars":
            _copy_warehouse(warehouse("project_vars"), warehouse(name))
            _kith(envs[name], "build", *ONLY_MARTS, "--full-refresh", *dbt_vars)
        _copy_warehouse(warehouse(name), root / name / "first_build.duckdb")

    # second delivery: the generator refuses a non-empty folder, so it writes beside the landing
    _kith(
        base,
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

    result: dict[str, Variant] = {}
    for name, dbt_vars in VARIANTS.items():
        env = envs[name]
        _kith(env, "ingest")
        _kith(env, "build", *UPSTREAM, *dbt_vars)
        incremental = _copy_warehouse(warehouse(name), root / name / "incremental.duckdb")
        rerun = None
        if name == "project_vars":
            _kith(env, "build", "--select", *MARTS, "--exclude-resource-type", "unit_test", *dbt_vars)
            rerun = _copy_warehouse(warehouse(name), root / name / "rerun.duckdb")
        _kith(env, "build", *ONLY_MARTS, "--full-refresh", *dbt_vars)
        result[name] = Variant(root / name / "first_build.duckdb", incremental, warehouse(name), rerun)
    return result


def _except_all(left: Path, right: Path, mart: str) -> tuple[int, int, list[tuple]]:
    """Rows only in `left`, rows only in `right`, and a few examples of each."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as lhs (read_only)")
        con.execute(f"attach '{right}' as rhs (read_only)")
        only_left = f"select * from lhs.marts.{mart} except all select * from rhs.marts.{mart}"
        only_right = f"select * from rhs.marts.{mart} except all select * from lhs.marts.{mart}"
        (n_left,) = con.execute(f"select count(*) from ({only_left})").fetchone()
        (n_right,) = con.execute(f"select count(*) from ({only_right})").fetchone()
        examples = con.execute(f"({only_left} limit 3) union all ({only_right} limit 3)").fetchall()
        return n_left, n_right, examples
    finally:
        con.close()


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("mart", MARTS)
def test_incremental_build_equals_full_refresh(variants: dict[str, Variant], name: str, mart: str) -> None:
    variant = variants[name]
    n_incremental, n_full, examples = _except_all(variant.incremental, variant.full_refresh, mart)
    assert (n_incremental, n_full) == (0, 0), f"{mart} ({name}): incremental and full refresh differ: {examples}"


def _count(variant: Variant, sql: str) -> int:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{variant.first_build}' as first_build (read_only)")
        con.execute(f"attach '{variant.incremental}' as incremental (read_only)")
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_second_delivery_exercises_every_incremental_path(variants: dict[str, Variant]) -> None:
    """The comparison above is only as strong as the changes the second delivery brings."""
    stress = variants["stress"]
    # events that arrived late, older than the newest event of the first build (lookback 0: only
    # their load time brings them in)
    late = _count(
        stress,
        """
        select count(*)
        from incremental.marts.fct_touchpoints as t
        anti join first_build.marts.fct_touchpoints as f using (touchpoint_id)
        where t.occurred_at < (
            select max(f.occurred_at) from first_build.marts.fct_touchpoints as f where f.channel = t.channel
        )
    """,
    )
    # sessions holding events of both deliveries
    crossing = _count(
        stress,
        """
        select count(*) from (
            select t.session_id
            from incremental.marts.fct_touchpoints as t
            left join first_build.marts.fct_touchpoints as f using (touchpoint_id)
            where t.session_id is not null
            group by 1
            having count(f.touchpoint_id) between 1 and count(*) - 1
        )
    """,
    )
    # first-delivery touchpoints the id map now gives another customer
    moved = _count(
        stress,
        """
        select count(*)
        from incremental.marts.fct_touchpoints as t
        inner join first_build.marts.fct_touchpoints as f using (touchpoint_id)
        where t.customer_id is distinct from f.customer_id
    """,
    )
    # first-delivery order lines whose status or returns changed
    changed_lines = _count(
        stress,
        """
        select count(*)
        from incremental.marts.fct_order_lines as t
        inner join first_build.marts.fct_order_lines as f using (order_line_id)
        where t.status <> f.status or t.returned_quantity <> f.returned_quantity
    """,
    )
    assert late > 0, "no late event arrived outside the lookback window"
    assert crossing > 0, "no session continued across the incremental boundary"
    assert moved > 0, "no touchpoint changed customer between the builds"
    assert changed_lines > 0, "no order line changed status or returns between the builds"


@pytest.mark.parametrize("mart", MARTS)
def test_rerun_with_nothing_new_changes_nothing(variants: dict[str, Variant], mart: str) -> None:
    """The incremental warehouse built again (data tests included, which must pass) is unchanged."""
    variant = variants["project_vars"]
    assert variant.rerun is not None
    n_before, n_after, examples = _except_all(variant.incremental, variant.rerun, mart)
    assert (n_before, n_after) == (0, 0), f"{mart} changed on a rerun with no new data: {examples}"
