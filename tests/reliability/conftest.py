"""Fixtures for the reliability and privacy tests: small generated landing folders, private copies of
the shared built sample (the shared fixtures are never written), and independent readers of what a
warehouse and a folder hold."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Sample, run_kith

SMALL_CUSTOMERS = 200
SMALL_SEED = 5
# the systems the crash tests ingest: events and mutable records, JSONL and CSV (all eleven take longer)
CRASH_SYSTEMS = ("web", "shop", "pos", "crm")


def sample_env(root: Path, landing: Path | None = None, truth: Path | None = None) -> dict[str, str]:
    return {
        "KITH_LANDING": str(landing or root / "landing"),
        "KITH_GROUND_TRUTH": str(truth or root / "truth"),
        "KITH_WAREHOUSE": str(root / "warehouse" / "kith.duckdb"),
        "KITH_REPORTS": str(root / "reports"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "KITH_PUBLISH_DIR": str(root / "published"),
    }


@dataclass(frozen=True)
class Landing:
    landing: Path
    truth: Path


@pytest.fixture(scope="session")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    """200 generated customers, four months of landing files (read only: copy before changing them)."""
    root = tmp_path_factory.mktemp("small")
    proc = run_kith(
        sample_env(root),
        "generate",
        *("--customers", str(SMALL_CUSTOMERS), "--seed", str(SMALL_SEED), "--start-date", "2026-07-01"),
    )
    assert proc.returncode == 0, proc.stderr
    return Landing(root / "landing", root / "truth")


@pytest.fixture(scope="session")
def small_reference(small_landing: Landing, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What one uninterrupted ingest of the small landing folder's CRASH_SYSTEMS gives (raw_snapshot)."""
    root = tmp_path_factory.mktemp("small_reference")
    proc = run_kith(sample_env(root, small_landing.landing, small_landing.truth), "ingest", *system_args())
    assert proc.returncode == 0, proc.stderr
    return raw_snapshot(root / "warehouse" / "kith.duckdb", CRASH_SYSTEMS)


def system_args(systems: tuple[str, ...] = CRASH_SYSTEMS) -> list[str]:
    return [arg for system in systems for arg in ("--system", system)]


def copy_sample(sample: Sample, root: Path) -> dict[str, str]:
    """A private copy of a (built) sample: landing, ground truth, warehouse, dbt target."""
    env = sample_env(root)
    shutil.copytree(sample.landing, env["KITH_LANDING"])
    shutil.copytree(sample.truth, env["KITH_GROUND_TRUTH"])
    Path(env["KITH_WAREHOUSE"]).parent.mkdir(parents=True)
    shutil.copy2(sample.warehouse, env["KITH_WAREHOUSE"])
    if sample.target.exists():
        shutil.copytree(sample.target, env["DBT_TARGET_PATH"], ignore=shutil.ignore_patterns("run", "compiled"))
    return env


def query(warehouse: Path | str, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def raw_snapshot(warehouse: Path, systems: tuple[str, ...] | None = None) -> dict[str, object]:
    """Every raw table's rows as (count, distinct lineage), the loaded files, the rejected lines."""
    from pipelines.sources import SYSTEMS, entities

    snapshot: dict[str, object] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for system in systems or SYSTEMS:
            for entity in entities(system):
                snapshot[f"raw_{system}.{entity.name}"] = con.execute(
                    f"select count(*), count(distinct (_kith_file, _kith_line)) from raw_{system}.{entity.name}"
                ).fetchone()
            snapshot[f"raw_{system}.loaded_files"] = sorted(
                con.execute(
                    f"select file_path, file_sha256, rows_read, rows_loaded, rows_rejected, duplicate_of "
                    f"from raw_{system}.loaded_files"
                ).fetchall()
            )
            snapshot[f"raw_{system}.rejected_rows"] = sorted(
                con.execute(f"select file_path, line_number, reason from raw_{system}.rejected_rows").fetchall()
            )
    finally:
        con.close()
    return snapshot


def data_lines(path: Path) -> int:
    """Rows in a landing file, counted independently of the loader."""
    with path.open("rb") as handle:
        n = sum(1 for line in handle if line.strip())
    return n - (1 if path.suffix == ".csv" and n else 0)


def kith_process(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kith.cli", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 300) -> bool:
    """SIGKILL the process (and its group) as soon as ``ready()``; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    raise AssertionError("the process neither finished nor reached the kill point in time")


def truth_rows(truth: Path, name: str) -> list[dict[str, str]]:
    with (truth / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
