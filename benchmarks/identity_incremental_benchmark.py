"""Incremental identity resolution against a full recompute, identity models only.

For each scale: generate the sample, hold back the last days (about 1% of the rows, as `kith bench`
does), ingest, build identity resolution (`+int_customer_id_registry dim_customer_identifiers`, no
tests); then deliver the held-back days, ingest, copy the warehouse, build identity incrementally on one copy and with
`--full-refresh` on the other. Prints and writes, per identity model, the seconds of both builds
(dbt's run_results) and their ratio, and checks that the identity tables are equal (the same
comparison as tests/identity/test_incremental_identity.py, at scale).

    python benchmarks/identity_incremental_benchmark.py --customers 100000 --workdir /tmp/ii --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from kith.bench import choose_cut, deliver, hold_back, rows_per_day

BUILD = [
    "build",
    "--select",
    "+int_customer_id_registry",
    "dim_customer_identifiers",
    "--exclude-resource-type",
    "test",
    "unit_test",
]
TABLES = {
    "marts.dim_customer_identifiers": "*",
    "intermediate.int_customer_id_registry": "* exclude (issued_at)",
    "intermediate.int_customer_ids_assigned": "* exclude (node_id, cluster_id)",
    "intermediate.int_identifiers_unioned": "*",
    "intermediate.int_identity_edges_built": "*",
    "intermediate.int_identity_nodes": "* exclude (node_id, refreshed_at)",
}


def kith(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "kith.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"kith {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def identity_seconds(target: Path) -> dict[str, float]:
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    seconds = {}
    for r in results:
        node = nodes.get(r["unique_id"], {})
        if node.get("resource_type") == "model" and node.get("original_file_path", "").startswith(
            ("models/intermediate/identity/", "models/marts/identity/")
        ):
            seconds[node["name"]] = round(float(r.get("execution_time") or 0.0), 2)
    return seconds


def differences(left: Path, right: Path) -> dict[str, int]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as lhs (read_only)")
        con.execute(f"attach '{right}' as rhs (read_only)")
        out = {}
        for table, columns in TABLES.items():
            (n,) = con.execute(
                f"select count(*) from ("
                f"(select {columns} from lhs.{table} except all select {columns} from rhs.{table}) union all"
                f" (select {columns} from rhs.{table} except all select {columns} from lhs.{table}))"
            ).fetchone()
            out[table] = n
        return out
    finally:
        con.close()


def run_scale(customers: int, workdir: Path, share: float, reuse: bool = False) -> dict:
    root = workdir / f"customers-{customers}"
    landing, held = root / "landing", root / "held_back"
    reuse = reuse and landing.is_dir() and not held.exists()
    for path in root.glob("*") if root.is_dir() else []:
        if not (reuse and path.name in ("landing", "truth")):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    env = {
        "KITH_LANDING": str(landing),
        "KITH_GROUND_TRUTH": str(root / "truth"),
        "KITH_WAREHOUSE": str(root / "incremental" / "kith.duckdb"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "KITH_REPORTS": str(root / "reports"),
    }
    full_env = env | {
        "KITH_WAREHOUSE": str(root / "full" / "kith.duckdb"),
        "DBT_TARGET_PATH": str(root / "target_full"),
        "DBT_LOG_PATH": str(root / "logs_full"),
    }
    if not reuse:
        print(f"[{customers:,}] generate", flush=True)
        kith(env, "generate", "--customers", str(customers), "--seed", "42")
    per_day = rows_per_day(landing)
    cut = choose_cut({day: rows for day, (rows, _) in per_day.items()}, share)
    held_files, _ = hold_back(landing, held, cut)
    print(f"[{customers:,}] ingest, first build (held back from {cut}: {held_files} files)", flush=True)
    kith(env, "ingest")
    first_seconds = kith(env, *BUILD)
    first_models = identity_seconds(Path(env["DBT_TARGET_PATH"]))
    deliver(held, landing)
    kith(env, "ingest")
    Path(full_env["KITH_WAREHOUSE"]).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(env["KITH_WAREHOUSE"], full_env["KITH_WAREHOUSE"])
    print(f"[{customers:,}] incremental build", flush=True)
    incremental_seconds = kith(env, *BUILD)
    incremental_models = identity_seconds(Path(env["DBT_TARGET_PATH"]))
    print(f"[{customers:,}] full refresh", flush=True)
    full_seconds = kith(full_env, *BUILD, "--full-refresh")
    full_models = identity_seconds(Path(full_env["DBT_TARGET_PATH"]))
    diff = differences(Path(env["KITH_WAREHOUSE"]), Path(full_env["KITH_WAREHOUSE"]))
    con = duckdb.connect(env["KITH_WAREHOUSE"], read_only=True)
    try:
        (changed, unioned) = con.execute(
            "select (select count(*) from intermediate.int_identifiers_changed where is_current),"
            " (select count(*) from intermediate.int_identifiers_unioned)"
        ).fetchone()
    finally:
        con.close()
    return {
        "customers": customers,
        "held_back_from": cut,
        "identifier_rows_reprocessed": changed,
        "identifier_rows": unioned,
        "first_build_seconds": round(first_seconds, 1),
        "incremental_build_seconds": round(incremental_seconds, 1),
        "full_refresh_seconds": round(full_seconds, 1),
        "first_build_models": first_models,
        "incremental_models": incremental_models,
        "full_refresh_models": full_models,
        "differences": diff,
    }


def markdown(scales: list[dict], command: str) -> str:
    lines = ["# Incremental identity against a full recompute", "", f"Command: `{command}`", ""]
    for s in scales:
        inc, full = s["incremental_models"], s["full_refresh_models"]
        det = [
            m
            for m in (
                "int_identifiers_changed",
                "int_identifiers_unioned",
                "int_identity_edges_built",
                "int_identity_nodes",
            )
        ]
        det_inc, det_full = sum(inc.get(m, 0) for m in det), sum(full.get(m, 0) for m in det)
        all_inc, all_full = sum(inc.values()), sum(full.values())
        lines += [
            f"## {s['customers']:,} customers",
            "",
            f"Held back from {s['held_back_from']}; the incremental build reprocessed"
            f" {s['identifier_rows_reprocessed']:,} of {s['identifier_rows']:,} identifier rows"
            f" ({s['identifier_rows_reprocessed'] / max(s['identifier_rows'], 1):.2%}).",
            f"Differences between the incremental build and the full refresh, rows: {s['differences']}.",
            "",
            f"- Identity models, incremental {all_inc:.1f} s against full refresh {all_full:.1f} s:"
            f" **{all_inc / all_full:.0%}**.",
            f"- The incremental chain (changed records, union, edges, nodes): {det_inc:.1f} s against {det_full:.1f} s:"
            f" **{det_inc / det_full:.0%}**.",
            "- dbt invocations (parse, seeds, staging views, identity): incremental"
            f" {s['incremental_build_seconds']} s,"
            f" full refresh {s['full_refresh_seconds']} s, first build {s['first_build_seconds']} s.",
            "",
            "| model | first build s | incremental s | full refresh s | incremental / full |",
            "|---|---:|---:|---:|---:|",
        ]
        for name in sorted(full, key=lambda n: -full[n]):
            ratio = f"{inc.get(name, 0) / full[name]:.0%}" if full[name] else "-"
            lines.append(
                f"| {name} | {s['first_build_models'].get(name, 0):.1f} | {inc.get(name, 0):.1f}"
                f" | {full[name]:.1f} | {ratio} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10000])
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/identity_incremental"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--new-share", type=float, default=0.01)
    parser.add_argument("--reuse", action="store_true", help="reuse the landing files a previous run generated")
    args = parser.parse_args(argv)
    scales = [run_scale(n, args.workdir, args.new_share, args.reuse) for n in args.customers]
    command = "python benchmarks/identity_incremental_benchmark.py " + " ".join(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "identity_incremental.json").write_text(json.dumps(scales, indent=2) + "\n", encoding="utf-8")
    text = markdown(scales, command)
    (args.out / "identity_incremental.md").write_text(text, encoding="utf-8")
    print(text)
    bad = [t for s in scales for t, n in s["differences"].items() if n]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
