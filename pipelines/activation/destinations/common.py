"""What every destination gets (a :class:`Delivery`) and the dlt plumbing they share."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.activation.config import Destination


class DeliveryError(Exception):
    """A destination could not take (part of) a delivery; the message is one line."""


class DeadlineExceededError(DeliveryError):
    """The destination used up its ``timeout_seconds``; what was acknowledged stays acknowledged."""


@dataclass
class Delivery:
    """One audience's changes for one destination, and how to report what the destination applied."""

    audience: str
    destination: Destination
    rows: pa.Table  # kith_change, kith_idempotency_key, kith_sync_id, kith_synced_at, then the payload
    acknowledge: Callable[[Sequence[str]], int]  # idempotency keys the destination applied
    deadline: float  # time.monotonic() by which the destination must be done
    work_dir: Path  # scratch space (dlt's pipeline working folders)
    reports: Path  # relative file destinations resolve under it

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check_deadline(self) -> None:
        if self.remaining() <= 0:
            raise DeadlineExceededError(
                f"timed out: {self.destination.name} took longer than its timeout_seconds "
                f"({self.destination.timeout_seconds:g}s)"
            )

    def acknowledge_all(self) -> int:
        return self.acknowledge(self.rows.column("kith_idempotency_key").to_pylist())


def warm_up(kinds: set[str]) -> None:
    """Import dlt and what it loads lazily, once, before destinations start on their own threads.

    Two threads importing the same module for the first time can see it half initialised (pandas,
    through dlt's extract step, did exactly that).
    """
    import importlib

    modules = ["dlt", "pandas", "pyarrow.parquet", "dlt.common.libs.pyarrow", "dlt.common.libs.pandas"]
    for kind in sorted(kinds):
        modules += _KIND_MODULES[kind]
    for module in modules:
        importlib.import_module(module)


_KIND_MODULES = {
    "file": ["dlt.destinations.impl.filesystem.filesystem", "fsspec.implementations.local"],
    "http": ["dlt.destinations.impl.destination.destination", "requests"],
    "database": [
        "dlt.destinations.impl.sqlalchemy.sqlalchemy_job_client",
        "dlt.destinations.impl.sqlalchemy.merge_job",
        "sqlalchemy.dialects.sqlite",
    ],
}


def pipeline_name(destination: Destination) -> str:
    return f"kith_activation_{destination.name}"


def configure_dlt(destinations: list[Destination]) -> None:
    """dlt settings for each destination's pipeline, set once before the destination threads start.

    dlt reads ``<PIPELINE>__SECTION__KEY`` environment variables, so these settings do not change
    other dlt pipelines in the same process (ingestion); environment variables are process-wide, hence
    written here on the main thread rather than by each destination.
    """
    for destination in destinations:
        settings = {
            "RUNTIME__LOG_LEVEL": "CRITICAL",  # failures are reported in one line by the sync, not as tracebacks
            "RESTORE_FROM_DESTINATION": "false",
            "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "false",
            "LOAD__RAISE_ON_MAX_RETRIES": "1",  # retries belong to the destination code, within its deadline
        }
        if destination.kind == "file":
            settings["NORMALIZE__DATA_WRITER__DISABLE_COMPRESSION"] = "true"  # plain CSV for the importing tool
        for key, value in settings.items():
            os.environ[f"{pipeline_name(destination).upper()}__{key}"] = value
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def dlt_pipeline(delivery: Delivery, destination: Any, dataset_name: str) -> Any:
    """A dlt pipeline with a fresh working folder: the sync's outbox, not dlt's state, says what to resend
    (a failed load package is never retried by dlt in a later sync). Settings: :func:`configure_dlt`."""
    import dlt

    work = delivery.work_dir / delivery.destination.name / delivery.audience
    work.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=pipeline_name(delivery.destination),
        pipelines_dir=str(work),
        destination=destination,
        dataset_name=dataset_name,
    )


_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*(?:Error|Exception)): (.+)$")


def one_line(exc: BaseException) -> str:
    """A one-line reason for a failure; dlt wraps the cause, and embeds a destination's traceback as text."""
    chain = [exc]
    while len(chain) < 20:
        inner = getattr(chain[-1], "exception", None) or chain[-1].__cause__
        if not isinstance(inner, BaseException) or inner in chain:
            break
        chain.append(inner)
    for e in chain:
        if isinstance(e, DeliveryError):
            return str(e)
    innermost = chain[-1]
    lines = [ln.strip() for ln in str(innermost).splitlines() if ln.strip()]
    for line in reversed(lines):
        match = _EXCEPTION_LINE.match(line)
        if match:
            return _short(f"{match.group(1)}: {match.group(2)}")
    return _short(f"{type(innermost).__name__}: {lines[0]}" if lines else type(innermost).__name__)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
