"""Identity-graph benchmark: connected components by Kith's two engines and a peer approach.

    python benchmarks/identity_benchmark.py --edges 100000 300000 1000000 [--workdir data/bench]
    python benchmarks/identity_benchmark.py --customers 100000 300000 1000000

`--customers N` sizes the graph like Kith's own at N customers: the generator's sample at 10,000
customers gives 166,507 identity links between 115,309 identifiers (16.65 links per customer,
`EDGES_PER_CUSTOMER`), so 1M customers is about 16.7M edges.

For each size, one synthetic edge list with the shape of an identity graph (many components of 2-20
identifiers, a few chains of about 1,000, a few hubs that merge hundreds of components) is stored
in a DuckDB file, and measured in the same run on the same edges:

(a) scipy connected components alone, arrays already in memory: the in-memory limit (best of 3);
(b) Kith's default DuckDB path: edges read from DuckDB via Arrow, scipy, (node_id, component_id)
    written back to a DuckDB table (what int_identity_components_scipy does);
(c) Kith's SQL path: the project's macro kith_connected_components (large-star/small-star), run by
    `dbt run-operation` of a wrapper macro in a throwaway dbt project whose macro path is the
    project's macros/identity/ (so the benchmark runs exactly the project's macro); the macro's own
    time is logged by the wrapper, dbt's start-up and parse are reported apart;
(d) min-label propagation in SQL (the approach of SQL id stitchers such as RudderStack's): every
    pass, each node takes the smallest label among itself and its neighbours, until no label
    changes; capped by --propagation-max-passes / --propagation-max-seconds.

Every engine's labels are checked against (a). Machines are noisy: compare ratios within a run.
Writes benchmarks/results/identity.json and identity.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from kith.identity.components import component_labels

ROOT = Path(__file__).resolve().parents[1]
# int_identity_links rows per customer in the generator's sample (10,000 customers, seed 42:
# 166,507 links, 115,309 identifiers); re-measure with
# `select count(*) from intermediate.int_identity_links` after `kith demo`.
EDGES_PER_CUSTOMER = 16.65

WRAPPER_MACRO = """
{% macro kith_benchmark_components(edges_table, output_table) %}
    {% set started = modules.datetime.datetime.now() %}
    {% set passes = kith_connected_components(
        api.Relation.create(schema='main', identifier=edges_table),
        api.Relation.create(schema='main', identifier=output_table, type='table')
    ) %}
    {% set seconds = (modules.datetime.datetime.now() - started).total_seconds() %}
    {% do log('kith_benchmark: passes=' ~ passes ~ ' seconds=' ~ seconds, info=true) %}
{% endmacro %}
"""
WRAPPER_LOG = re.compile(r"kith_benchmark: passes=(?P<passes>\d+) seconds=(?P<seconds>[\d.]+)")


@dataclass(frozen=True)
class Graph:
    src: np.ndarray
    dst: np.ndarray
    n_nodes: int
    shape: dict[str, int]


def synthetic_graph(n_edges: int, seed: int) -> Graph:
    """About `n_edges` edges shaped like an identity graph; every node id 0..n-1 is in an edge."""
    rng = np.random.default_rng(seed)
    n_chains = max(3, n_edges // 50_000)
    n_hubs = 3
    hub_degree = max(100, n_edges // 200)
    duplicates = n_edges // 50  # a link seen in both directions
    budget = n_edges - n_chains * 1_000 - n_hubs * hub_degree - duplicates

    # small components: random trees of 2-20 nodes, sizes skewed to small (most people have few identifiers)
    sizes_pool = np.arange(2, 21)
    weights = sizes_pool**-1.5 / (sizes_pool**-1.5).sum()
    sizes = rng.choice(sizes_pool, size=budget // 2 + 1, p=weights)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes - 1), budget)) + 1]
    # chains of about 1,000
    chain_sizes = rng.integers(800, 1_201, size=n_chains)
    all_sizes = np.concatenate([sizes, chain_sizes])
    offsets = np.concatenate([[0], np.cumsum(all_sizes)[:-1]])
    n_tree_nodes = int(all_sizes.sum())
    component = np.repeat(np.arange(len(all_sizes)), all_sizes)
    local = np.arange(n_tree_nodes) - np.repeat(offsets, all_sizes)
    is_chain = component >= len(sizes)
    child = np.flatnonzero(local > 0)
    parent_local = np.where(is_chain[child], local[child] - 1, (rng.random(len(child)) * local[child]).astype(np.int64))
    src = [child]
    dst = [np.repeat(offsets, all_sizes)[child] + parent_local]
    # hubs: one shared identifier (a store's default email, a family tablet) on many small components
    hubs = np.arange(n_tree_nodes, n_tree_nodes + n_hubs)
    small_nodes = np.flatnonzero(~is_chain)
    src.append(np.repeat(hubs, hub_degree))
    dst.append(rng.choice(small_nodes, size=n_hubs * hub_degree))
    src_all, dst_all = np.concatenate(src), np.concatenate(dst)
    pick = rng.integers(0, len(src_all), size=duplicates)
    src_all, dst_all = np.concatenate([src_all, dst_all[pick]]), np.concatenate([dst_all, src_all[pick]])
    # node ids are dense and unrelated to the graph's structure; edge order is arbitrary
    n_nodes = n_tree_nodes + n_hubs
    ids = rng.permutation(n_nodes)
    order = rng.permutation(len(src_all))
    shape = {
        "small_components": len(sizes),
        "chains": n_chains,
        "hubs": n_hubs,
        "hub_degree": hub_degree,
        "reversed_duplicates": duplicates,
    }
    return Graph(ids[src_all[order]], ids[dst_all[order]], n_nodes, shape)


def store(graph: Graph, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        edges = pa.table({"node_id_a": graph.src.astype(np.int64), "node_id_b": graph.dst.astype(np.int64)})
        connection.register("edges_arrow", edges)
        connection.execute("create or replace table main.edges as select * from edges_arrow")
        connection.execute(f"create or replace table main.nodes as select range as node_id from range({graph.n_nodes})")


def scipy_in_memory(graph: Graph) -> tuple[float, np.ndarray]:
    """(a): the best of three runs on arrays already in memory."""
    best, labels = float("inf"), np.empty(0)
    for _ in range(3):
        started = time.perf_counter()
        labels = component_labels(graph.src, graph.dst, graph.n_nodes)
        best = min(best, time.perf_counter() - started)
    return best, labels


def duckdb_scipy(warehouse: Path) -> tuple[float, dict[int, int]]:
    """(b): Arrow out of DuckDB, scipy, Arrow back in (int_identity_components_scipy's path)."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as connection:
        links = connection.sql("select node_id_a, node_id_b from main.edges").to_arrow_table()
        n_nodes = connection.execute("select count(*) from main.nodes").fetchall()[0][0]
        labels = component_labels(links["node_id_a"].to_numpy(), links["node_id_b"].to_numpy(), n_nodes)
        result = pa.table({"node_id": pa.array(np.arange(n_nodes), pa.int64()), "component_id": labels})
        connection.register("result_arrow", result)
        connection.execute("create or replace table main.components_scipy as select * from result_arrow")
        connection.unregister("result_arrow")
    return time.perf_counter() - started, read_labels(warehouse, "components_scipy")


def write_dbt_project(project_dir: Path) -> None:
    """A throwaway dbt project that reads the project's macros/identity/ in place."""
    if project_dir.exists():
        shutil.rmtree(project_dir)
    (project_dir / "macros").mkdir(parents=True)
    (project_dir / "dbt_project.yml").write_text(
        "name: kith_identity_benchmark\nversion: '0.1.0'\nconfig-version: 2\nprofile: kith_identity_benchmark\n"
        f"macro-paths: ['macros', '{ROOT / 'macros' / 'identity'}']\n"
        "flags: {send_anonymous_usage_stats: false, partial_parse: false}\n"
    )
    (project_dir / "profiles.yml").write_text(
        "kith_identity_benchmark:\n  target: bench\n  outputs:\n    bench:\n      type: duckdb\n"
        "      path: \"{{ env_var('KITH_BENCH_WAREHOUSE') }}\"\n      schema: main\n      threads: 1\n"
    )
    (project_dir / "macros" / "kith_benchmark_components.sql").write_text(WRAPPER_MACRO.lstrip())


def sql_large_small_star(project_dir: Path, warehouse: Path) -> tuple[dict[str, float], dict[int, int]]:
    """(c): the project's macro through `dbt run-operation`."""
    dbt = Path(sys.executable).parent / "dbt"
    command = [
        str(dbt),
        "run-operation",
        "kith_benchmark_components",
        "--args",
        "{edges_table: edges, output_table: components_sql}",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(project_dir / "target"),
        "--log-path",
        str(project_dir / "logs"),
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        command, env={**os.environ, "KITH_BENCH_WAREHOUSE": str(warehouse)}, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    match = WRAPPER_LOG.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise SystemExit(f"dbt run-operation failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    timing = {"seconds": float(match["seconds"]), "passes": int(match["passes"]), "dbt_wall_seconds": wall}
    return timing, read_labels(warehouse, "components_sql")


def label_propagation(warehouse: Path, max_passes: int, max_seconds: float) -> tuple[dict, dict[int, int]]:
    """(d): every pass, label = min(own label, neighbours' labels); stop when no label changes."""
    started = time.perf_counter()
    passes, changed = 0, -1
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            """
            create or replace table main.lp_neighbours as
            with directed as (
                select node_id_a as node_id, node_id_b as neighbour_id from main.edges
                union all
                select node_id_b as node_id, node_id_a as neighbour_id from main.edges
            )
            select node_id, neighbour_id from directed where node_id <> neighbour_id group by 1, 2
            """
        )
        connection.execute(
            """
            create or replace table main.lp_labels as
            select node_id, node_id as component_id
            from (select node_id_a as node_id from main.edges union select node_id_b from main.edges) as nodes
            """
        )
        while changed != 0 and passes < max_passes and time.perf_counter() - started < max_seconds:
            connection.execute(
                """
                create or replace table main.lp_next as
                with offered as (
                    select node_id, component_id from main.lp_labels
                    union all
                    select lp_neighbours.node_id, lp_labels.component_id
                    from main.lp_neighbours
                    inner join main.lp_labels on lp_neighbours.neighbour_id = lp_labels.node_id
                )
                select node_id, min(component_id) as component_id from offered group by 1
                """
            )
            changed = connection.execute(
                """
                select count(*) from main.lp_next
                inner join main.lp_labels on lp_next.node_id = lp_labels.node_id
                where lp_next.component_id <> lp_labels.component_id
                """
            ).fetchall()[0][0]
            connection.execute("drop table main.lp_labels")
            connection.execute("alter table main.lp_next rename to lp_labels")
            passes += 1
        connection.execute("drop table main.lp_neighbours")
        connection.execute("alter table main.lp_labels rename to components_propagation")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "passes": passes, "converged": changed == 0}, read_labels(
        warehouse, "components_propagation"
    )


def read_labels(warehouse: Path, table: str) -> dict[int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        result = connection.sql(f"select node_id, component_id from main.{table}").fetchnumpy()
    return dict(zip(result["node_id"].tolist(), result["component_id"].tolist(), strict=True))


def wrong_labels(expected: np.ndarray, got: dict[int, int]) -> int:
    """Nodes (of those in an edge, i.e. all of them here) whose label differs from scipy's."""
    nodes = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
    labels = np.fromiter(got.values(), dtype=np.int64, count=len(got))
    return int((expected[nodes] != labels).sum()) + (len(expected) - len(got))


def remove_warehouse(warehouse: Path) -> None:
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)


def run_size(n_edges: int, args: argparse.Namespace, project_dir: Path) -> dict:
    graph = synthetic_graph(n_edges, args.seed)
    warehouse = args.workdir / f"identity-{n_edges}.duckdb"
    remove_warehouse(warehouse)
    store(graph, warehouse)
    scipy_seconds, expected = scipy_in_memory(graph)
    duckdb_seconds, duckdb_labels = min((duckdb_scipy(warehouse) for _ in range(args.repeat)), key=lambda run: run[0])
    sql_runs = [sql_large_small_star(project_dir, warehouse) for _ in range(args.repeat)]
    sql_timing, sql_labels = min(sql_runs, key=lambda run: run[0]["seconds"])
    propagation, propagation_labels = label_propagation(
        warehouse, args.propagation_max_passes, args.propagation_max_seconds
    )
    edges = len(graph.src)
    sizes = np.bincount(np.unique(expected, return_inverse=True)[1])
    engines = {
        "a_scipy_in_memory": {"seconds": scipy_seconds, "passes": None, "wrong_labels": 0},
        "b_duckdb_arrow_scipy": {"seconds": duckdb_seconds, "passes": None},
        "c_sql_large_small_star": {**sql_timing},
        "d_sql_label_propagation": {**propagation},
    }
    engines["b_duckdb_arrow_scipy"]["wrong_labels"] = wrong_labels(expected, duckdb_labels)
    engines["c_sql_large_small_star"]["wrong_labels"] = wrong_labels(expected, sql_labels)
    engines["d_sql_label_propagation"]["wrong_labels"] = wrong_labels(expected, propagation_labels)
    for engine in engines.values():
        engine["ratio_to_a"] = engine["seconds"] / scipy_seconds
        engine["microseconds_per_edge"] = engine["seconds"] / edges * 1e6
    remove_warehouse(warehouse)
    return {
        "edges": edges,
        "nodes": graph.n_nodes,
        "components": len(sizes),
        "largest_component": int(sizes.max()),
        "shape": graph.shape,
        "engines": engines,
    }


def markdown(report: dict) -> str:
    names = {
        "a_scipy_in_memory": "(a) scipy, arrays in memory",
        "b_duckdb_arrow_scipy": "(b) DuckDB -> Arrow -> scipy -> DuckDB (default)",
        "c_sql_large_small_star": "(c) SQL large-star/small-star (dbt macro)",
        "d_sql_label_propagation": "(d) SQL min-label propagation",
    }
    sizes = " ".join(str(r["edges"]) for r in report["runs"])
    if report.get("requested_customers"):
        command = f"--customers {' '.join(map(str, report['requested_customers']))}"
    else:
        command = f"--edges {' '.join(map(str, report['requested_edges']))}"
    lines = [
        "# Identity graph benchmark: connected components",
        "",
        f"Command: `python benchmarks/identity_benchmark.py {command}`"
        f" ({report['machine']}; duckdb {report['duckdb']}). All four measured in one run on the same edges;"
        " machines are noisy, compare ratios within a run (1-minute load average at start and end:"
        f" {report['load_average_1min'][0]} and {report['load_average_1min'][1]}; other jobs shared the machine"
        " when it was above the CPU count).",
        "",
        "Synthetic identity graphs: random trees of 2-20 nodes (sizes skewed to small, weight size^-1.5),"
        " chains of 800-1,200 nodes (2% of edges), 3 hubs each linked to random nodes of the small components"
        " (0.5% of edges each: they merge hundreds of components into the largest one), 2% of links repeated"
        " reversed; node ids shuffled, so ids say nothing about the structure. Shape per size: "
        + "; ".join(f"{r['edges']:,} edges: {r['shape']}" for r in report["runs"])
        + ".",
        "",
        "| edges | nodes | components | largest | engine | seconds | x (a) | passes | µs/edge | wrong labels |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for run in report["runs"]:
        for key, engine in run["engines"].items():
            passes = "" if engine["passes"] is None else str(engine["passes"])
            if key == "d_sql_label_propagation" and not engine["converged"]:
                passes += " (cap, not converged)"
            lines.append(
                f"| {run['edges']:,} | {run['nodes']:,} | {run['components']:,} | {run['largest_component']:,} "
                f"| {names[key]} | {engine['seconds']:.3f} | {engine['ratio_to_a']:.1f} | {passes} "
                f"| {engine['microseconds_per_edge']:.2f} | {engine['wrong_labels']:,} |"
            )
    c_runs = [r["engines"]["c_sql_large_small_star"] for r in report["runs"]]
    lines += ["", "Targets (issue #4), checked on this run:", ""] + [f"- {t}" for t in target_lines(report)]
    lines += [
        "",
        "Notes:",
        "",
        f"- (a) is the best of 3, (b) and (c) the best of {report['repeat']}, (d) a single run. (b) includes"
        " connecting, the Arrow read, the relabelling and the write of every node's component.",
        "- (c) is the macro's own time as logged by the wrapper macro; `dbt run-operation` adds start-up and"
        " parse (wall: " + ", ".join(f"{c['dbt_wall_seconds']:.1f} s" for c in c_runs) + f" at {sizes} edges)."
        " It issues 13 statements per pass (6 read the working set, the rest are drops and a count) and about 30"
        " to set up and clean up, each with a fixed cost in dbt and DuckDB: at these sizes that cost is a large"
        " part of the time, so its µs/edge falls as the graph grows.",
        f"- (d) is capped at {report['propagation_max_passes']} passes or {report['propagation_max_seconds']:.0f} s;"
        " a pass count marked 'cap' means it stopped there without converging, and its wrong labels are the"
        " nodes it had not yet labelled correctly. Its passes grow with the graph's diameter (the chains),"
        " large-star/small-star's with log(n).",
        "- wrong labels: nodes whose component_id differs from (a)'s.",
    ]
    return "\n".join(lines) + "\n"


def target_lines(report: dict) -> list[str]:
    """The issue's three targets, each marked met or not met from the measured runs."""
    runs = report["runs"]
    largest = runs[-1]
    b = largest["engines"]["b_duckdb_arrow_scipy"]
    customers = largest.get("customers")
    at = f"{customers:,} customers ({largest['edges']:,} edges)" if customers else f"{largest['edges']:,} edges"
    out = [
        f"default DuckDB path within 2x of scipy alone at {at}: {b['ratio_to_a']:.2f}x: "
        + ("met" if b["ratio_to_a"] <= 2 else "NOT met")
    ]
    for run in runs:
        c = run["engines"]["c_sql_large_small_star"]
        bound = 2 * math.log2(max(run["largest_component"], 2))
        out.append(
            f"SQL path passes at {run['edges']:,} edges: {c['passes']} against 2*log2(largest component "
            f"{run['largest_component']:,}) = {bound:.0f}: " + ("met" if c["passes"] <= bound else "NOT met")
        )
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        growth = last["edges"] / first["edges"]
        for key, label in (("b_duckdb_arrow_scipy", "default path"), ("c_sql_large_small_star", "SQL path")):
            ratio = last["engines"][key]["seconds"] / first["engines"][key]["seconds"]
            out.append(
                f"growth of the {label}: {growth:.1f}x the edges took {ratio:.1f}x the time "
                f"({first['engines'][key]['microseconds_per_edge']:.2f} -> "
                f"{last['engines'][key]['microseconds_per_edge']:.2f} µs/edge): "
                + ("near-linear or better" if ratio <= growth * 1.5 else "worse than near-linear")
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--edges", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    sizes.add_argument(
        "--customers",
        type=int,
        nargs="+",
        help=f"size graphs as Kith's at N customers ({EDGES_PER_CUSTOMER} edges each)",
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench" / "identity")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--repeat", type=int, default=2, help="runs of (b) and (c); the best is reported")
    parser.add_argument("--propagation-max-passes", type=int, default=1_500)
    parser.add_argument("--propagation-max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    project_dir = args.workdir / "dbt_project"
    write_dbt_project(project_dir)

    load_before = os.getloadavg()[0]
    runs = []
    customers = args.customers or [None] * len(args.edges)
    edge_counts = [round(c * EDGES_PER_CUSTOMER) for c in args.customers] if args.customers else args.edges
    for n_customers, n_edges in zip(customers, edge_counts, strict=True):
        print(f"{n_edges:,} edges" + (f" ({n_customers:,} customers)" if n_customers else "") + " ...", flush=True)
        runs.append({"customers": n_customers, **run_size(n_edges, args, project_dir)})
        for key, engine in runs[-1]["engines"].items():
            print(f"  {key}: {engine['seconds']:.3f} s, passes {engine['passes']}, wrong {engine['wrong_labels']}")
    report = {
        "requested_edges": edge_counts,
        "requested_customers": args.customers,
        "seed": args.seed,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "repeat": args.repeat,
        "duckdb": duckdb.__version__,
        "propagation_max_passes": args.propagation_max_passes,
        "propagation_max_seconds": args.propagation_max_seconds,
        "runs": runs,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "identity.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (out_dir / "identity.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
