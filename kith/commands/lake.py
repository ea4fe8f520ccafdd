"""``kith lake [--to DIR]``: write the raw datasets as Parquet for Spark (``kith.lake``, docs/spark.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kith.config import Paths
from kith.console import out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "lake", help="write every raw table as Parquet (<lake>/raw_<system>/<table>/), the sources of the spark target"
    )
    p.add_argument("--to", help="lake folder (default $KITH_LAKE or <warehouse dir>/lake)")
    p.set_defaults(func=cmd_lake)


def cmd_lake(args: argparse.Namespace, paths: Paths) -> int:
    from kith.lake import default_lake, export_raw
    from pipelines.ingest import warehouse_lock

    lake = Path(args.to).resolve() if args.to else default_lake(paths.warehouse)
    with warehouse_lock(paths.warehouse, "kith lake"):
        export = export_raw(paths.warehouse, lake)
    for line in export.lines():
        out.print(line)
    return 0
