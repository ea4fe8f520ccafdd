"""The ``kith`` command line: generate, ingest, build, demo, evaluate, and the commands in ``kith.commands``.

User mistakes (a missing landing folder, a locked warehouse, a bad argument) end with one line on
stderr and exit code 2; a failed build or lost data exits 1.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from kith.config import DEFAULT_END_DATE, DEFAULT_START_DATE, Paths, UserError
from kith.console import console, out, parse_date, parse_positive, progress_bar
from pipelines.sources import SYSTEMS

DEFAULT_CUSTOMERS = 10_000
DEFAULT_SEED = 42

_date = parse_date
_positive = parse_positive


# -- commands ------------------------------------------------------------------------------
def cmd_generate(args: argparse.Namespace, paths: Paths) -> int:
    from kith.generate import generate

    landing = Path(args.out).resolve() if args.out else paths.landing
    truth = Path(args.truth).resolve() if args.truth else paths.ground_truth
    _prepare_output(landing, args.force)
    _prepare_output(truth, args.force)
    with progress_bar() as update, _as_user_error(ValueError):
        summary = generate(
            out=landing,
            truth=truth,
            customers=args.customers,
            seed=args.seed,
            start_date=args.start_date,
            end_date=args.end_date,
            emit_from=args.emit_from,
            emit_until=args.emit_until,
            progress=lambda done, total: update("generating customers", done, total),
        )
    out.print(
        f"generated {args.customers:,} customers (seed {args.seed}) in {summary.elapsed_seconds:.1f}s: "
        f"{sum(summary.rows_per_entity.values()):,} rows in {sum(summary.files_per_entity.values()):,} files"
    )
    out.print(f"landing files: {landing}")
    out.print(f"ground truth:  {truth}")
    return 0


@contextmanager
def _as_user_error(*types: type[Exception]):
    """Library functions raise ValueError for bad arguments: show those as one line."""
    try:
        yield
    except types as exc:
        raise UserError(str(exc)) from None


def _prepare_output(folder: Path, force: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise UserError(f"{folder} is not empty; pass --force to replace it")
        shutil.rmtree(folder)


def cmd_ingest(args: argparse.Namespace, paths: Paths) -> int:
    from pipelines.ingest import ingest

    landing = Path(args.landing).resolve() if args.landing else paths.landing
    with progress_bar() as update:
        summary = ingest(landing, paths.warehouse, systems=args.system or None, progress=update)
    _print_ingest(summary)
    return 0


def _print_ingest(summary) -> None:
    for line in getattr(summary, "recovered", []):
        out.print(f"recovered: {line}")
    table = Table(title="ingested", title_justify="left")
    for col in ("source", "files new", "skipped", "duplicate", "rows read", "loaded", "rejected", "new columns"):
        table.add_column(col, justify="left" if col in ("source", "new columns") else "right")
    for e in summary.entities:
        table.add_row(
            f"raw_{e.system}.{e.entity}",
            f"{e.files_new:,}",
            f"{e.files_skipped:,}",
            f"{e.files_duplicate:,}",
            f"{e.rows_read:,}",
            f"{e.rows_loaded:,}",
            f"{e.rows_rejected:,}",
            ", ".join(sorted(e.new_columns)),
        )
    out.print(table)
    out.print(
        f"{summary.rows_read:,} rows read = {summary.rows_loaded:,} loaded + {summary.rows_rejected:,} rejected "
        f"(reasons in raw_<system>.rejected_rows) in {summary.seconds:.1f}s"
    )
    out.print(f"warehouse: {summary.warehouse}")


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    from kith.dbt import run_dbt
    from kith.spark import is_spark_target

    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith ingest` first")
    from pipelines.ingest import warehouse_lock

    started = time.perf_counter()
    # one lock over the build and the BI publication that follows it (the lock is re-entrant)
    with warehouse_lock(paths.warehouse, "kith build"):
        outcome = run_dbt(paths, "build", *args.dbt_args)
        finished_at = datetime.now(UTC)
        # the BI publication copies the DuckDB marts; on the spark target they live in Spark
        publish = outcome.success and not args.no_publish and not is_spark_target()
        published = publish and _publish_for_bi(paths, finished_at)
    out.print(
        f"dbt build {'succeeded' if outcome.success else 'FAILED'} in {time.perf_counter() - started:.1f}s: "
        f"{outcome.line()}"
    )
    for failure in outcome.failures[:20]:
        console.print(f"  {failure}")
    out.print("warehouse: Spark (KITH_TARGET=spark)" if is_spark_target() else f"warehouse: {paths.warehouse}")
    for line in published or []:
        out.print(line)
    return 0 if outcome.success else 1


def _publish_for_bi(paths: Paths, built_at: datetime) -> list[str]:
    """After a successful build, refresh the read-only copy of the public marts that BI reads."""
    from kith.publish import publish_marts

    try:
        publication = publish_marts(paths, built_at=built_at)
    except UserError as exc:  # e.g. a partial build of a fresh warehouse: the marts are not all there
        return [f"not published for BI: {exc}"]
    return publication.lines()


def cmd_demo(args: argparse.Namespace, paths: Paths) -> int:
    landing_empty = not paths.landing.exists() or not any(paths.landing.iterdir())
    if args.fresh or landing_empty:
        for folder in (paths.landing, paths.ground_truth):
            if folder.exists():
                shutil.rmtree(folder)
        if args.fresh and paths.warehouse.exists():
            paths.warehouse.unlink()
        gen_args = argparse.Namespace(
            out=None,
            truth=None,
            customers=args.customers,
            seed=args.seed,
            force=True,
            start_date=DEFAULT_START_DATE,
            end_date=DEFAULT_END_DATE,
            emit_from=None,
            emit_until=None,
        )
        out.rule("1/3 generate sample exports")
        cmd_generate(gen_args, paths)
    else:
        out.print(f"landing folder {paths.landing} already has data: ingesting what is new (--fresh to start over)")
    out.rule("2/3 ingest (dlt -> DuckDB raw datasets)")
    cmd_ingest(argparse.Namespace(landing=None, system=None), paths)
    out.rule("3/3 build (dbt build: seeds, models, tests)")
    status = cmd_build(argparse.Namespace(dbt_args=[], no_publish=False), paths)
    out.rule("summary")
    _print_warehouse_summary(paths)
    return status


def _print_warehouse_summary(paths: Paths) -> None:
    from pipelines.ingest import open_warehouse

    con = open_warehouse(paths.warehouse, read_only=True)
    try:
        rows = con.execute(
            """
            select schema_name, count(*) as tables, sum(estimated_size) as row_estimate
            from duckdb_tables() where not internal
            group by 1 order by 1
            """
        ).fetchall()
        views = dict(
            con.execute("select schema_name, count(*) from duckdb_views() where not internal group by 1").fetchall()
        )
        built = {
            name
            for (name,) in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        }
        if not {"dim_customers", "fct_orders", "fct_touchpoints"} <= built:
            figures = None
        else:
            figures = con.execute(
                """
            select
                (select count(*) from marts.dim_customers),
                (select count(*) from marts.dim_customers where is_known),
                (select count(*) from marts.fct_orders),
                (select count(*) from marts.fct_touchpoints)
            """
            ).fetchall()[0]
        audiences = con.execute(
            """
            select table_name, estimated_size from duckdb_tables()
            where schema_name = 'marts' and table_name like 'aud\\_%' escape '\\'
            order by table_name
            """
        ).fetchall()
    finally:
        con.close()
    table = Table(title="warehouse", title_justify="left")
    for col in ("schema", "tables", "views", "rows (approx.)"):
        table.add_column(col, justify="left" if col == "schema" else "right")
    for schema, n, est in rows:
        table.add_row(schema, str(n), str(views.pop(schema, 0)), f"{int(est or 0):,}")
    for schema, n in sorted(views.items()):
        table.add_row(schema, "0", str(n), "")
    out.print(table)
    if figures is None:
        out.print("the customer marts are not built yet: see the build errors above, then run `kith build`")
        return
    customers, known, orders, touchpoints = figures
    out.print(
        f"{customers:,} customers ({known:,} known by an email, phone, CRM, loyalty or shop id; the rest anonymous "
        f"visitors), {orders:,} orders, {touchpoints:,} touchpoints"
    )
    if audiences:
        out.print("audiences: " + ", ".join(f"{name} {int(size or 0):,}" for name, size in audiences))
    out.print("look a customer up with: kith profile <email|phone|loyalty number|customer id>")
    out.print(f"warehouse: {paths.warehouse}  (read it with: duckdb -readonly {paths.warehouse})")


def _evaluate_identity(args: argparse.Namespace, paths: Paths) -> int:
    from kith.identity.evaluate import evaluate_identity, write_report
    from pipelines.ingest import open_warehouse

    truth = Path(args.truth).resolve() if args.truth else paths.ground_truth
    if not (truth / "records.csv").exists():
        raise UserError(f"no ground truth in {truth} (it is written by `kith generate`)")
    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith demo` first")
    open_warehouse(paths.warehouse, read_only=True).close()
    score = evaluate_identity(paths.warehouse, truth)
    for line in score.lines():
        out.print(line)
    report = write_report(score, paths.reports)
    out.print(f"report: {report}")
    return 0


def _evaluate_ltv(args: argparse.Namespace, paths: Paths) -> int:
    from kith.scoring.holdout import evaluate_ltv_command

    return evaluate_ltv_command(args, paths)


def _evaluate_campaign(args: argparse.Namespace, paths: Paths) -> int:
    if not args.name:
        raise UserError("name the audience: kith evaluate campaign AUDIENCE --since DATE")
    from pipelines.activation.campaign import evaluate_campaign_command

    return evaluate_campaign_command(args, paths)


EVALUATORS: dict[str, Callable[[argparse.Namespace, Paths], int]] = {
    "identity": _evaluate_identity,
    "ltv": _evaluate_ltv,
    "campaign": _evaluate_campaign,
}


def cmd_evaluate(args: argparse.Namespace, paths: Paths) -> int:
    return EVALUATORS[args.what](args, paths)


# -- parser --------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with a pointer to --help), exit code 2."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kith", description="Kith customer data platform")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens in detail")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("generate", help="write realistic sample exports of every source system")
    g.add_argument("--customers", type=_positive, default=DEFAULT_CUSTOMERS)
    g.add_argument("--seed", type=int, default=DEFAULT_SEED)
    g.add_argument("--out", help="landing folder (default $KITH_LANDING or data/landing)")
    g.add_argument("--truth", help="ground-truth folder (default $KITH_GROUND_TRUTH or data/ground_truth)")
    g.add_argument("--start-date", type=_date, default=DEFAULT_START_DATE)
    g.add_argument("--end-date", type=_date, default=DEFAULT_END_DATE)
    g.add_argument("--emit-from", type=_date, help="write only files dated on or after this day")
    g.add_argument("--emit-until", type=_date, help="write only files dated on or before this day")
    g.add_argument("--force", action="store_true", help="replace existing output folders")
    g.set_defaults(func=cmd_generate)

    i = sub.add_parser("ingest", help="load new landing files into the warehouse (raw_<system>)")
    i.add_argument("--landing", help="landing folder (default $KITH_LANDING or data/landing)")
    i.add_argument("--system", action="append", choices=SYSTEMS, help="only this source system (repeatable)")
    i.set_defaults(func=cmd_ingest)

    b = sub.add_parser("build", help="dbt build (seeds, models, snapshots, tests); extra args go to dbt")
    b.add_argument("dbt_args", nargs="*", help="passed to dbt as they are, e.g. kith build --select staging")
    b.add_argument(
        "--no-publish",
        action="store_true",
        help="do not refresh the BI publication (kith publish) after a successful build",
    )
    b.set_defaults(func=cmd_build)

    d = sub.add_parser("demo", help="generate, ingest and build end to end, then summarise")
    d.add_argument("--customers", type=_positive, default=DEFAULT_CUSTOMERS)
    d.add_argument("--seed", type=int, default=DEFAULT_SEED)
    d.add_argument("--fresh", action="store_true", help="start over: new sample data and a new warehouse")
    d.set_defaults(func=cmd_demo)
    e = sub.add_parser("evaluate", help="score results against the sample data's ground truth")
    e.add_argument("what", choices=sorted(EVALUATORS), help="what to evaluate")
    e.add_argument("name", nargs="?", help="campaign: the audience whose treated and control groups to compare")
    e.add_argument("--truth", help="ground-truth folder (default $KITH_GROUND_TRUTH or data/ground_truth)")
    e.add_argument("--as-of", type=_date, help="ltv: fit on data up to this date, compare with what followed")
    e.add_argument("--since", type=_date, help="campaign: compare purchases on and after this date")
    e.set_defaults(func=cmd_evaluate)

    from kith.commands import register_all

    register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # everything after `build` belongs to dbt (--select, --full-refresh, ...), options included
    commands = [i for i, a in enumerate(argv) if not a.startswith("-")]
    dbt_args: list[str] = []
    if commands and argv[commands[0]] == "build":
        argv, dbt_args = argv[: commands[0] + 1], argv[commands[0] + 1 :]
    args = parser.parse_args(argv)
    if args.command == "build":
        # Kith's own option, wherever it is written; the rest is dbt's
        args.no_publish = args.no_publish or "--no-publish" in dbt_args
        args.dbt_args = [a for a in dbt_args if a != "--no-publish"]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace, Paths], int] = args.func
    try:
        return func(args, Paths.from_env())
    except UserError as exc:
        print(f"kith {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kith {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
