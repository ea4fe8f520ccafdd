"""The kith CLI: user mistakes end in exactly one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def kith(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kith.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "KITH_LANDING": str(tmp_path / "landing"),
        "KITH_GROUND_TRUTH": str(tmp_path / "truth"),
        "KITH_WAREHOUSE": str(tmp_path / "warehouse" / "kith.duckdb"),
        "COLUMNS": "80",  # a narrow terminal must not wrap the message
    }


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_landing_folder(env: dict[str, str]) -> None:
    assert_one_line_error(kith("ingest", env=env), "kith ingest: error:", "does not exist", env["KITH_LANDING"])


def test_build_before_ingest(env: dict[str, str]) -> None:
    assert_one_line_error(kith("build", env=env), "kith build: error:", "run `kith ingest` first")


def test_bad_argument(env: dict[str, str]) -> None:
    assert_one_line_error(kith("generate", "--customers", "0", env=env), "--customers", "positive")
    assert_one_line_error(kith("ingest", "--system", "fax", env=env | {"KITH_LANDING": "/"}), "invalid choice: 'fax'")


def test_generate_refuses_to_overwrite(env: dict[str, str]) -> None:
    landing = Path(env["KITH_LANDING"])
    landing.mkdir(parents=True)
    (landing / "something.csv").write_text("x\n")
    assert_one_line_error(kith("generate", "--customers", "5", env=env), "not empty", "--force")


def test_locked_warehouse(env: dict[str, str]) -> None:
    warehouse = Path(env["KITH_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True)
    landing = Path(env["KITH_LANDING"]) / "web" / "events"
    landing.mkdir(parents=True)
    (landing / "2026-01-01.jsonl").write_text("{}\n")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert_one_line_error(kith("ingest", env=env), "locked by another process")
        assert_one_line_error(kith("build", env=env), "locked by another process")
    finally:
        holder.kill()
        holder.wait()
