"""``kith publish [--to DIR] [--include-pii]``: copy the public marts to the read-only BI publication.

See ``kith.publish`` (what is written, how it is swapped) and ``docs/bi.md`` (how BI tools read it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kith.config import Paths
from kith.console import out


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "publish", help="publish the public marts for BI (DuckDB file readable by DuckDB 1.4+, and Parquet)"
    )
    p.add_argument("--to", help="publication folder (default $KITH_PUBLISH_DIR or <warehouse dir>/published)")
    p.add_argument(
        "--include-pii",
        action="store_true",
        default=None,
        help="publish personal data as it is (default: hashed or masked unless KITH_PUBLISH_PII=1)",
    )
    p.set_defaults(func=cmd_publish)


def cmd_publish(args: argparse.Namespace, paths: Paths) -> int:
    from kith.publish import publish_marts

    publication = publish_marts(
        paths,
        publish_dir=Path(args.to).resolve() if args.to else None,
        include_pii=args.include_pii,
    )
    for line in publication.lines():
        out.print(line)
    out.print(f"manifest: {publication.manifest_file}")
    return 0
