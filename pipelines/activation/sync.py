"""One sync: plan every audience x destination in the warehouse, deliver concurrently, record the outcome.

1. Plan (one transaction): create the ``activation`` schema if needed, mark syncs left 'running' by a
   crash as 'interrupted', assign newcomers to treatment or control, compute each audience x
   destination's changes (:mod:`pipelines.activation.plan`) into the outbox, and open a history row.
   ``dry_run`` rolls this transaction back: nothing is sent and nothing changes.
2. Deliver: one thread per destination, its audiences one after the other, within the destination's
   ``timeout_seconds``. Acknowledgements move changes from the outbox into the state as they come.
   A destination that fails or overruns its deadline stops only itself; a thread still running after
   its deadline plus a grace period is abandoned and its late acknowledgements are ignored (those
   changes are resent next time). So the sync ends after at most the longest destination timeout
   plus the grace period, whatever the destinations do.
3. Record: each history row gets its status (success, failed, timeout, skipped), the number of changes
   acknowledged, the error in one line and where the changes went.

The warehouse stays open (and locked) for the whole sync: DuckDB has one writer per file.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from kith.config import UserError
from pipelines.activation import plan, state
from pipelines.activation.config import ActivationConfig, Destination
from pipelines.activation.consent import check_consent_relation
from pipelines.activation.destinations import DeadlineExceededError, Delivery, deliver, one_line, target
from pipelines.activation.destinations.common import configure_dlt, warm_up
from pipelines.activation.state import Acknowledger, PairResult

log = logging.getLogger(__name__)

GRACE_SECONDS = 5.0


@dataclass
class ActivationReport:
    sync_id: str
    synced_at: datetime
    dry_run: bool
    warehouse: Path
    results: list[PairResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[PairResult]:
        return [r for r in self.results if r.status in ("failed", "timeout")]


def new_sync_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def activate(
    warehouse: Path,
    config: ActivationConfig,
    *,
    reports: Path,
    audiences: Sequence[str] | None = None,
    destinations: Sequence[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> ActivationReport:
    """Sync the chosen audiences (default: all) to the chosen destinations (default: all)."""
    if not warehouse.exists():
        raise UserError(f"warehouse {warehouse} does not exist yet: run `kith demo` or `kith build` first")
    from pipelines.ingest import warehouse_lock

    # sync state is written to the warehouse: one Kith writer at a time
    with warehouse_lock(warehouse, "kith activate"):
        return _activate(warehouse, config, reports, audiences, destinations, dry_run, now, grace_seconds)


def _activate(
    warehouse: Path,
    config: ActivationConfig,
    reports: Path,
    audiences: Sequence[str] | None,
    destinations: Sequence[str] | None,
    dry_run: bool,
    now: datetime | None,
    grace_seconds: float,
) -> ActivationReport:
    from pipelines.ingest import open_warehouse

    started = time.perf_counter()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    chosen = [config.destination(name) for name in dict.fromkeys(destinations or ())] or list(config.destinations)
    if not warehouse.exists():
        raise UserError(f"warehouse {warehouse} does not exist yet: run `kith demo` or `kith build` first")
    report = ActivationReport(new_sync_id(now), now, dry_run, warehouse)
    con = open_warehouse(warehouse)
    try:
        con.execute("set TimeZone = 'UTC'")
        found = plan.discover_audiences(con)
        pairs = _pairs(config, chosen, found, audiences)
        for audience in dict.fromkeys(a for a, _ in pairs if a in found):
            plan.check_audience(con, found[audience])
        if any(d.consents for _, d in pairs):
            check_consent_relation(con, config.consent_periods)
        jobs = _plan(con, config, pairs, found, report, reports)
        if dry_run:
            return report
        _deliver(con, jobs, report, reports, grace_seconds)
    finally:
        con.close()
        report.seconds = time.perf_counter() - started
    return report


def _pairs(
    config: ActivationConfig,
    chosen: list[Destination],
    found: dict[str, plan.Audience],
    audiences: Sequence[str] | None,
) -> list[tuple[str, Destination]]:
    """(audience, destination) to sync, checked against what the warehouse holds."""
    wanted = [a.removeprefix(plan.AUDIENCE_PREFIX) for a in dict.fromkeys(audiences or ())]
    for name in wanted:
        if name not in found:
            known = ", ".join(found) or "none yet: build the audience models with `kith build`"
            raise UserError(f"unknown audience {name!r}: no table marts.aud_{name} (audiences: {known})")
    # an audience the config lists but the warehouse lacks is that pair's failure, not everyone's
    pairs = [
        (a, d) for d in chosen for a in (found if d.audiences is None else d.audiences) if not wanted or a in wanted
    ]
    if not any(a in found for a, _ in pairs):
        if not found:
            raise UserError("nothing to sync: the warehouse has no audience tables (marts.aud_*) yet")
        names = ", ".join(wanted) or "any audience"
        raise UserError(f"nothing to sync: no chosen destination takes {names} ({config.path.name})")
    for name in wanted:
        if not any(a == name for a, _ in pairs):
            raise UserError(f"no chosen destination takes audience {name!r} ({config.path.name})")
    return pairs


@dataclass
class _Job:
    result: PairResult
    destination: Destination
    rows: pa.Table | None  # the changes; None when nothing is to be sent


def _plan(
    con: duckdb.DuckDBPyConnection,
    config: ActivationConfig,
    pairs: list[tuple[str, Destination]],
    found: dict[str, plan.Audience],
    report: ActivationReport,
    reports: Path,
) -> list[_Job]:
    now, sync_id = report.synced_at, report.sync_id
    jobs: list[_Job] = []
    con.execute("begin transaction")
    try:
        state.ensure_schema(con)
        if not report.dry_run:
            state.mark_interrupted(con, now)
        for audience in dict.fromkeys(a for a, _ in pairs if a in found):
            plan.assign_groups(con, found[audience], config.audience(audience).control_share, now)
        for index, (name, destination) in enumerate(pairs):
            result = PairResult(name, destination.name, destination.kind)
            if name not in found:
                result.status = "failed"
                result.error = (
                    f"marts.aud_{name} does not exist (build it with `kith build`, or fix {config.path.name})"
                )
                if not report.dry_run:
                    state.record_planned(con, sync_id, result, now)
                report.results.append(result)
                jobs.append(_Job(result, destination, None))
                continue
            audience = found[name]
            missing = destination.missing_env()
            record = not report.dry_run and not missing
            table = plan.plan_changes(
                con, audience, destination, config.consent_periods, result, sync_id, now, index, record=record
            )
            result.target = target(destination, name, reports)
            if report.dry_run:
                result.status = "dry run" if not missing else "skipped"
            elif missing:
                result.status = "skipped"
            if missing:
                result.error = f"not configured: set {', '.join(missing)}"
            rows = None
            if record and result.changes:
                rows = plan.delivery_rows(con, audience, destination, table, sync_id, now)
            elif record:
                result.status = "success"  # nothing to send
            if not report.dry_run:
                state.record_planned(con, sync_id, result, now)
            report.results.append(result)
            jobs.append(_Job(result, destination, rows))
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("rollback" if report.dry_run else "commit")
    return jobs


def _deliver(
    con: duckdb.DuckDBPyConnection, jobs: list[_Job], report: ActivationReport, reports: Path, grace: float
) -> None:
    sending = [job for job in jobs if job.rows is not None]
    warm_up({job.destination.kind for job in sending})
    configure_dlt(list({job.destination.name: job.destination for job in sending}.values()))
    acknowledger = Acknowledger(con)
    work_dir = Path(tempfile.mkdtemp(prefix="kith-activation-"))
    by_destination: dict[str, list[_Job]] = {}
    for job in jobs:
        if job.rows is not None:
            by_destination.setdefault(job.destination.name, []).append(job)
    threads: list[tuple[threading.Thread, float, list[_Job]]] = []
    try:
        for name, destination_jobs in by_destination.items():
            deadline = time.monotonic() + destination_jobs[0].destination.timeout_seconds
            thread = threading.Thread(
                target=_run_destination,
                args=(destination_jobs, deadline, acknowledger, report, work_dir, reports),
                name=f"kith-activation-{name}",
                daemon=True,  # an abandoned destination must not keep the process alive
            )
            thread.start()
            threads.append((thread, deadline, destination_jobs))
        for thread, deadline, destination_jobs in threads:
            thread.join(timeout=max(0.0, deadline + grace - time.monotonic()))
            if thread.is_alive():
                for job in destination_jobs:
                    acknowledger.close_pair(job.result)
                    if job.result.status == "running":
                        job.result.status = "timeout"
                        job.result.error = (
                            f"timed out: still running {job.destination.timeout_seconds:g}s + {grace:g}s grace "
                            "after the destination started; abandoned"
                        )
        finished = datetime.now(UTC).replace(tzinfo=None)
        with acknowledger.lock:
            for job in jobs:
                if not report.dry_run:
                    state.record_finished(con, report.sync_id, job.result, finished)
    finally:
        acknowledger.close()
        if not any(t.is_alive() for t, _, _ in threads):
            # dlt leaves hundreds of small folders: remove them while the caller carries on (the
            # interpreter waits for this thread before it exits)
            threading.Thread(
                target=shutil.rmtree, args=(work_dir,), kwargs={"ignore_errors": True}, name="kith-activation-cleanup"
            ).start()


def _run_destination(
    jobs: list[_Job],
    deadline: float,
    acknowledger: Acknowledger,
    report: ActivationReport,
    work_dir: Path,
    reports: Path,
) -> None:
    for job in jobs:
        result = job.result

        def acknowledge(keys: Sequence[str], result: PairResult = result) -> int:
            return acknowledger.acknowledge(result, keys, report.synced_at)

        delivery = Delivery(result.audience, job.destination, job.rows, acknowledge, deadline, work_dir, reports)
        started = time.perf_counter()
        try:
            delivery.check_deadline()
            result.target = deliver(delivery)
            if result.acknowledged < result.changes:
                result.status = "failed"
                result.error = f"only {result.acknowledged} of {result.changes} changes were acknowledged"
            else:
                result.status = "success"
        except DeadlineExceededError as exc:
            result.status, result.error = "timeout", one_line(exc)
        except Exception as exc:  # one destination's failure never stops the others
            log.info("delivery to %s failed", job.destination.name, exc_info=True)
            result.status, result.error = "failed", one_line(exc)
        finally:
            result.seconds = time.perf_counter() - started
