"""The slower fault-injection suite: more kill points, every source system, and `dbt build` killed at
several stages. Run by `make test-slow` (KITH_SLOW_TESTS=1); skipped by `make test`.

- ingest killed while extracting, while loading and between systems, over all eleven systems;
- a load job committed but not recorded for the loaded-files and rejected-rows tables;
- `kith build` killed early (seeds and staging), in the middle (identity and marts) and late
  (snapshots and tests), then run again: green, no leftover relations, the same facts and identity
  tables as before the kill, and `kith audit` explains everything;
- an erased person stays erased through a build killed half-way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.sources import SYSTEMS
from tests.conftest import Sample, run_kith
from tests.reliability.conftest import Landing, copy_sample, kill_when, kith_process, query, raw_snapshot, sample_env
from tests.reliability.test_crash_ingest import KILL_POINTS, ingest_killed_then_rerun, job_committed_then_rerun
from tests.reliability.test_forget import COUNTED, Erased, assert_rebuild_keeps_the_erasure, erased  # noqa: F401

pytestmark = pytest.mark.skipif(
    os.environ.get("KITH_SLOW_TESTS") != "1", reason="slow fault-injection suite: make test-slow"
)
ALL = tuple(SYSTEMS)


@pytest.fixture(scope="module")
def reference_all(small_landing: Landing, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("reference_all")
    proc = run_kith(sample_env(root, small_landing.landing, small_landing.truth), "ingest")
    assert proc.returncode == 0, proc.stderr
    return raw_snapshot(root / "warehouse" / "kith.duckdb", ALL)


@pytest.mark.parametrize("kill_point", list(KILL_POINTS))
def test_ingest_of_every_system_killed_then_rerun(
    small_landing: Landing, reference_all: dict, tmp_path: Path, kill_point: str
) -> None:
    ingest_killed_then_rerun(small_landing, reference_all, tmp_path, kill_point, ALL)


@pytest.mark.parametrize("table", ["loaded_files", "rejected_rows", "orders"])
def test_a_committed_job_of_any_table_is_not_loaded_twice(
    small_landing: Landing, reference_all: dict, tmp_path: Path, table: str
) -> None:
    job_committed_then_rerun(small_landing, reference_all, tmp_path, table, ALL)


def _counts(warehouse: Path) -> dict[str, tuple[int, int]]:
    keys = {
        "marts.fct_orders": "order_id",
        "marts.fct_order_lines": "order_line_id",
        "marts.fct_touchpoints": "touchpoint_id",
        "marts.dim_customers": "customer_id",
        "marts.dim_customer_identifiers": "identifier_type, identifier_value",
        "intermediate.int_identifiers_unioned": "record_id, identifier_type, identifier_value",
        "intermediate.int_customer_id_registry": "customer_id",
    }
    assert set(keys) == set(COUNTED)
    return {t: query(warehouse, f"select count(*), count(distinct ({k})) from {t}")[0] for t, k in keys.items()}


@pytest.mark.parametrize("after", [3, 60, 150])
def test_a_build_killed_then_rerun_is_green_and_changes_nothing(
    built_sample: Sample, tmp_path: Path, after: int
) -> None:
    """Killed after `after` nodes have finished (seeds and staging / identity and marts / snapshots and tests)."""
    env = copy_sample(built_sample, tmp_path)
    warehouse = Path(env["KITH_WAREHOUSE"])
    before = _counts(warehouse)
    log = Path(env["DBT_LOG_PATH"]) / "dbt.log"

    def finished() -> int:
        text = log.read_text(errors="replace") if log.exists() else ""
        return sum(text.count(marker) for marker in (" OK created ", " OK snapshotted ", " PASS ", " OK loaded "))

    build = kith_process(env, "build")
    assert kill_when(build, lambda: finished() >= after), "the build ended before the kill"
    rebuilt = run_kith(env, "build")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    leftovers = query(
        warehouse,
        "select table_name from duckdb_tables() where table_name like '%dbt_tmp%' or table_name like '%dbt_backup%'",
    )
    assert leftovers == []
    after_counts = _counts(warehouse)
    assert after_counts == before
    assert all(total == distinct for total, distinct in after_counts.values())
    audit = run_kith(env, "audit")
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr


def test_an_erased_person_stays_erased_through_a_killed_build(erased: Erased) -> None:  # noqa: F811
    assert erased.forget.returncode == 0, erased.forget.stderr
    assert_rebuild_keeps_the_erasure(erased, kill_after_models=20)
