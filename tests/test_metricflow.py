"""MetricFlow answers metric queries over the semantic models, with the numbers of the order facts."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

from kith.config import PROJECT_DIR
from tests.conftest import Sample

SKIP = shutil.ignore_patterns(".venv", ".git", "data", "target", "logs", "reports", "__pycache__", ".pytest_cache")


def test_mf_query_matches_the_order_facts(built_sample: Sample, tmp_path: Path) -> None:
    # mf reads ./target/semantic_manifest.json of the current folder: parse a copy of the project
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, project, ignore=SKIP)
    env = {**os.environ, **built_sample.env, "DBT_TARGET_PATH": str(project / "target")}
    bin_dir = Path(sys.executable).parent
    parse = subprocess.run(
        [str(bin_dir / "dbt"), "parse", "--profiles-dir", ".", "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert parse.returncode == 0, parse.stdout[-3000:] + parse.stderr[-3000:]
    out = tmp_path / "mf.csv"
    query = subprocess.run(
        [
            str(bin_dir / "mf"),
            "query",
            "--metrics",
            "orders,revenue",
            "--group-by",
            "metric_time__month",
            "--csv",
            str(out),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert query.returncode == 0 and out.exists(), query.stdout[-3000:] + query.stderr[-3000:]
    with out.open() as f:
        from_mf = {
            row["metric_time__month"][:7]: (int(row["orders"]), Decimal(row["revenue"]).quantize(Decimal("0.01")))
            for row in csv.DictReader(f)
        }

    con = duckdb.connect(str(built_sample.warehouse), read_only=True)
    try:
        rows = con.execute(
            """
            select strftime(ordered_at, '%Y-%m'), count(*), sum(net_amount)
            from marts.fct_orders
            where not is_cancelled
            group by 1
            """
        ).fetchall()
    finally:
        con.close()
    from_sql = {month: (n, Decimal(str(revenue)).quantize(Decimal("0.01"))) for month, n, revenue in rows}
    assert len(from_sql) >= 6
    assert from_mf == from_sql
