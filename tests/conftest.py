"""Shared fixtures: a small generated sample, ingested and built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLE_CUSTOMERS = 300
SAMPLE_SEED = 11


@dataclass(frozen=True)
class Sample:
    landing: Path
    truth: Path
    warehouse: Path
    target: Path
    env: dict[str, str]


def run_kith(sample_env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the CLI in its own process (dbt keeps global state; DuckDB holds a file lock)."""
    return subprocess.run(
        [sys.executable, "-m", "kith.cli", *args],
        env={**os.environ, **sample_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """300 generated customers, ingested (not yet built)."""
    root = tmp_path_factory.mktemp("sample")
    env = {
        "KITH_LANDING": str(root / "landing"),
        "KITH_GROUND_TRUTH": str(root / "truth"),
        "KITH_WAREHOUSE": str(root / "warehouse" / "kith.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }
    s = Sample(root / "landing", root / "truth", root / "warehouse" / "kith.duckdb", root / "target", env)
    proc = run_kith(env, "generate", "--customers", str(SAMPLE_CUSTOMERS), "--seed", str(SAMPLE_SEED))
    assert proc.returncode == 0, proc.stderr
    proc = run_kith(env, "ingest")
    assert proc.returncode == 0, proc.stderr
    return s


@pytest.fixture(scope="session")
def built_sample(sample: Sample) -> Sample:
    """The sample after a full `kith build` (dbt build: seeds, models, snapshots, tests)."""
    proc = run_kith(sample.env, "build")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return sample
