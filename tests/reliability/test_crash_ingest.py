"""`kith ingest` killed (SIGKILL) at any point, then run again, gives exactly the warehouse one
uninterrupted ingest gives: every raw table, every loaded-files row and every rejected row, with no
row loaded twice and none missing (and the counts reconcile with the landing files)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest import ingest
from tests.conftest import run_kith
from tests.reliability.conftest import (
    CRASH_SYSTEMS,
    Landing,
    data_lines,
    kill_when,
    kith_process,
    query,
    raw_snapshot,
    sample_env,
    system_args,
)


def _packages(dlt: Path, stage: str) -> int:
    return sum(1 for p in dlt.glob(f"kith_*/{stage}/*") if p.is_dir())


KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    # the first system's files are being extracted and normalised
    "while extracting": lambda dlt: _packages(dlt, "normalize/extracted") > 0,
    # a normalised package is being loaded into the warehouse, one system already loaded
    "while loading": lambda dlt: _packages(dlt, "load/normalized") > 0 and _packages(dlt, "load/loaded") >= 1,
    # a few systems loaded, the others not started
    "between systems": lambda dlt: _packages(dlt, "load/loaded") >= 3 and _packages(dlt, "normalize/extracted") == 0,
}


def assert_reconciles(warehouse: Path, landing: Path, systems: tuple[str, ...]) -> None:
    """Counts reconcile with the landing files, independently of the loader's own bookkeeping."""
    from pipelines.sources import entities

    for system in systems:
        for path, read, loaded, rejected, duplicate_of in query(
            warehouse,
            f"select file_path, rows_read, rows_loaded, rows_rejected, duplicate_of from raw_{system}.loaded_files",
        ):
            if duplicate_of is None:
                assert read == data_lines(landing / path) == loaded + rejected, path
        for entity in entities(system):
            (rows, lines) = query(
                warehouse,
                f"select count(*), count(distinct (_kith_file, _kith_line)) from raw_{system}.{entity.name}",
            )[0]
            assert rows == lines, f"raw_{system}.{entity.name}: a landing line loaded twice"


def ingest_killed_then_rerun(
    landing: Landing, reference: dict, root: Path, kill_point: str, systems: tuple[str, ...]
) -> None:
    env = sample_env(root, landing.landing, landing.truth)
    warehouse = Path(env["KITH_WAREHOUSE"])
    dlt = warehouse.parent / ".dlt" / warehouse.stem
    proc = kith_process(env, "ingest", *system_args(systems))
    assert kill_when(proc, lambda: KILL_POINTS[kill_point](dlt)), f"ingest ended before the kill point ({kill_point})"
    rerun = run_kith(env, "ingest", *system_args(systems))
    assert rerun.returncode == 0, rerun.stderr
    assert raw_snapshot(warehouse, systems) == reference
    assert_reconciles(warehouse, landing.landing, systems)
    again = run_kith(env, "ingest", *system_args(systems))  # and a third run changes nothing
    assert "0 rows read = 0 loaded + 0 rejected" in again.stdout
    assert raw_snapshot(warehouse, systems) == reference


def test_ingest_killed_while_loading_then_rerun_equals_one_uninterrupted_ingest(
    small_landing: Landing, small_reference: dict, tmp_path: Path
) -> None:
    """Killed while a package is going into the warehouse (other points: tests/reliability/test_slow.py)."""
    ingest_killed_then_rerun(small_landing, small_reference, tmp_path, "while loading", CRASH_SYSTEMS)


KILL_AFTER_COMMIT = """
import os, signal, sys
from pathlib import Path
from dlt.common.storages.load_package import PackageStorage

record = PackageStorage.save_pending_transition

def die(self, load_id, file_name, *args, **kwargs):
    if file_name.startswith(sys.argv[3] + "."):  # this table's rows are committed; dlt has not noted it
        os.kill(os.getpid(), signal.SIGKILL)
    return record(self, load_id, file_name, *args, **kwargs)

PackageStorage.save_pending_transition = die
from pipelines.ingest import ingest
ingest(Path(sys.argv[1]), Path(sys.argv[2]), systems=sys.argv[4:])
"""


def job_committed_then_rerun(
    landing: Landing, reference: dict, root: Path, table: str, systems: tuple[str, ...]
) -> None:
    warehouse = root / "warehouse" / "kith.duckdb"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_COMMIT, str(landing.landing), str(warehouse), table, *systems],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    summary = ingest(landing.landing, warehouse, systems=systems)
    assert any("loaded twice" in line for line in summary.recovered), summary.recovered
    assert raw_snapshot(warehouse, systems) == reference
    assert_reconciles(warehouse, landing.landing, systems)


def test_a_job_committed_but_not_recorded_is_not_loaded_twice(
    small_landing: Landing, small_reference: dict, tmp_path: Path
) -> None:
    """The narrowest window: a load job's insert has committed and the process dies before dlt notes
    it. Resuming runs the job again (dlt cannot know it ran); the rows it doubles are removed. (The
    same for the loaded-files and rejected-rows tables: tests/reliability/test_slow.py.)"""
    job_committed_then_rerun(small_landing, small_reference, tmp_path, "events", CRASH_SYSTEMS)
