"""Kith on Apache Spark (the dbt target ``spark``, docs/spark.md).

dbt-spark submits Python models to Databricks only (dbt-labs/dbt-spark#415). With the ``session``
method Spark runs inside the dbt process, so a Python model can simply be executed there:
:class:`SessionPythonJobHelper` runs the compiled model code (dbt-spark's own ``py_write_table``
wrapper: ``model(dbt, spark)`` then ``saveAsTable``) with the live SparkSession, and
:func:`install_session_submission` registers it as the submission method ``session`` (what the
project configures for Python models on the spark target). Kith's dbt runner (kith/dbt.py) installs
it before dbt starts; a plain ``dbt build`` outside Kith has no such method and fails on the
first Python model with dbt's "Submission method session is not supported".
"""

from __future__ import annotations

import os
from typing import Any

SESSION_METHOD = "session"


def target_name() -> str:
    """The dbt target Kith runs: ``KITH_TARGET`` (profiles.yml), ``duckdb`` by default."""
    return os.environ.get("KITH_TARGET", "duckdb").strip() or "duckdb"


def is_spark_target() -> bool:
    return target_name() == "spark"


class SessionPythonJobHelper:
    """Runs a compiled Python model in this process, against the SparkSession of the session method."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> dict:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        name = self.parsed_model.get("alias") or self.parsed_model.get("name", "python_model")
        namespace: dict[str, Any] = {"spark": spark, "__name__": f"kith_python_model_{name}"}
        exec(compile(compiled_code, f"<dbt python model {name}>", "exec"), namespace)
        return {"model": name}


def install_session_submission() -> None:
    """Make ``submission_method: session`` available to dbt-spark (idempotent)."""
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_kith_session_submission", False):
        return
    original = SparkAdapter.python_submission_helpers

    def helpers(self: SparkAdapter) -> dict:
        return {**original.fget(self), SESSION_METHOD: SessionPythonJobHelper}

    SparkAdapter.python_submission_helpers = property(helpers)
    SparkAdapter._kith_session_submission = True
