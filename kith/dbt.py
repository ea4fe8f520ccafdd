"""Running dbt through its Python API against the Kith project and warehouse."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from kith.config import PROJECT_DIR, Paths, UserError


@dataclass
class DbtOutcome:
    success: bool
    command: str
    counts: Counter = field(default_factory=Counter)  # (resource_type, status) -> n
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        by_type: dict[str, list[str]] = {}
        for (rtype, status), n in sorted(self.counts.items()):
            by_type.setdefault(rtype, []).append(f"{n} {status}")
        return "; ".join(f"{rtype}s: {', '.join(parts)}" for rtype, parts in by_type.items()) or "nothing ran"


def release_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation, so the
    warehouse can be opened again here (DuckDB refuses a second connection to a file with another
    configuration, e.g. read-only) and by other processes (the file lock)."""
    import gc

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def run_dbt(paths: Paths, command: str, *args: str) -> DbtOutcome:
    """Run ``dbt <command> <args>`` in-process, holding the warehouse for the whole invocation
    (:func:`pipelines.ingest.warehouse_lock`: a second Kith writer fails at once, or waits)."""
    from pipelines.ingest import warehouse_lock

    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with warehouse_lock(paths.warehouse, f"kith {command}" if command == "build" else f"dbt {command}"):
        return _run_dbt(paths, command, *args)


def _run_dbt(paths: Paths, command: str, *args: str) -> DbtOutcome:
    from dbt.cli.main import dbtRunner

    from kith.spark import install_session_submission, is_spark_target
    from pipelines.ingest import open_warehouse

    spark = is_spark_target()
    if spark:  # the warehouse is Spark's (profiles.yml); the DuckDB file only fed the lake (kith lake)
        install_session_submission()
    else:
        open_warehouse(paths.warehouse).close()
    os.environ.update(paths.dbt_env())
    if spark:
        from kith.lake import LAKE_ENV, default_lake

        # absolute paths beside the DuckDB warehouse unless set (profiles.yml's spark target)
        spark_dir = paths.warehouse.parent / "spark"
        os.environ.setdefault(LAKE_ENV, str(default_lake(paths.warehouse)))
        os.environ.setdefault("KITH_SPARK_WAREHOUSE", str(spark_dir / "warehouse"))
        os.environ.setdefault("KITH_SPARK_METASTORE", str(spark_dir / "metastore"))
    # `kith build --select x` runs the tests whose parents are all being built, not tests that
    # also read models outside the selection (dbt's default, "eager", fails on those)
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    (paths.warehouse.parent / "tmp").mkdir(exist_ok=True)
    cli_args = [
        *command.split(),  # "build", or a two-word command such as "docs generate"
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        *args,
    ]
    try:
        result = dbtRunner().invoke(cli_args)
    finally:
        if not spark:
            release_dbt_duckdb()
    outcome = DbtOutcome(success=bool(result.success), command=command)
    if result.exception is not None:
        raise UserError(f"dbt {command} could not run: {result.exception}")
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        status = str(node_result.status)
        outcome.counts[(node.resource_type, status)] += 1
        if status in ("error", "fail"):
            outcome.failures.append(f"{node.unique_id}: {node_result.message}")
    return outcome
