"""Two Kith commands started at once against one warehouse: the second fails at once with one line
naming the command that holds it (or, with KITH_LOCK_WAIT, waits for it), and the warehouse ends
exactly as if the winner had run alone.

A warehouse held by another program (DuckDB's own file lock) is a one-line error too:
tests/test_cli.py::test_locked_warehouse and tests/test_ingest.py::test_locked_warehouse_is_a_one_line_user_error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import Sample
from tests.reliability.conftest import (
    CRASH_SYSTEMS,
    Landing,
    copy_sample,
    kith_process,
    query,
    raw_snapshot,
    sample_env,
    system_args,
)

QUICK_BUILD = ("build", "--no-publish", "--select", "stg_crm__contacts", "stg_shop__customers")


def _holder(warehouse: Path, timeout: float = 120) -> dict:
    """Wait until a Kith command holds the warehouse lock; what it wrote about itself."""
    path = warehouse.with_name(warehouse.name + ".kith-lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = path.read_text()
        except FileNotFoundError:
            text = ""
        if text:
            return json.loads(text)
        time.sleep(0.02)
    raise AssertionError("no command took the warehouse lock")


def _one_line_busy(stderr: str, holder: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "is busy" in lines[0] and f"`{holder}`" in lines[0] and "Traceback" not in stderr


def test_two_ingests_started_together_one_runs_the_other_is_refused(
    small_landing: Landing, small_reference: dict, tmp_path: Path
) -> None:
    env = sample_env(tmp_path, small_landing.landing, small_landing.truth)
    first, second = (kith_process(env, "ingest", *system_args()) for _ in range(2))
    results = [(p.wait(timeout=600), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, _, err in results if code == 2)
    _one_line_busy(loser, "kith ingest")
    assert raw_snapshot(Path(env["KITH_WAREHOUSE"]), CRASH_SYSTEMS) == small_reference


@pytest.fixture()
def built_copy(built_sample: Sample, tmp_path: Path) -> dict[str, str]:
    return copy_sample(built_sample, tmp_path)


def _marts(env: dict[str, str]) -> list[tuple]:
    return query(
        env["KITH_WAREHOUSE"],
        "select schema_name, table_name, estimated_size from duckdb_tables() "
        "where schema_name in ('marts', 'intermediate', 'snapshots') order by 1, 2",
    )


def test_commands_started_during_a_build_are_refused_in_one_line_or_wait(built_copy: dict[str, str]) -> None:
    before = _marts(built_copy)
    build = kith_process(built_copy, *QUICK_BUILD)
    holder = _holder(Path(built_copy["KITH_WAREHOUSE"]))
    assert holder["command"] == "kith build" and holder["pid"] == build.pid
    waiting = kith_process({**built_copy, "KITH_LOCK_WAIT": "600"}, "ingest")
    for second in ("ingest", "build"):
        refused = kith_process(built_copy, second)
        code, (_, stderr) = refused.wait(timeout=120), refused.communicate()
        assert code == 2, stderr
        _one_line_busy(stderr, "kith build")
    assert waiting.poll() is None, "the waiting ingest did not wait"
    assert build.wait(timeout=600) == 0, build.communicate()
    code, (stdout, stderr) = waiting.wait(timeout=600), waiting.communicate()
    assert code == 0, stderr
    assert "0 rows read = 0 loaded + 0 rejected" in stdout
    assert _marts(built_copy) == before


HOLD = """
import sys, time
from pathlib import Path
from pipelines.ingest import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), "kith forget"):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_killed_holder_leaves_no_stale_lock(small_landing: Landing, tmp_path: Path) -> None:
    import subprocess
    import sys

    env = sample_env(tmp_path, small_landing.landing, small_landing.truth)
    warehouse = Path(env["KITH_WAREHOUSE"])
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    refused = kith_process(env, "ingest", "--system", "crm")
    code, (_, stderr) = refused.wait(timeout=120), refused.communicate()
    assert code == 2
    _one_line_busy(stderr, "kith forget")
    holder.kill()  # SIGKILL: no cleanup runs
    holder.wait()
    again = kith_process(env, "ingest", "--system", "crm")
    assert again.wait(timeout=300) == 0, again.communicate()
