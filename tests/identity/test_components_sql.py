"""The SQL engine of connected components (macros/identity/connected_components.sql) gives exactly
the labels of the scipy engine (kith.identity.components.component_labels).

One throwaway dbt project reads the project's macros/identity/ in place and holds one model per
graph, plus a copy of int_identity_components_sql.sql over an `int_identity_links` model; one
`dbt run` builds them all, a second one runs the chain with too few passes allowed.
"""

from __future__ import annotations

import gc
import math
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import yaml
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult

from kith.identity.components import component_labels

REPO = Path(__file__).resolve().parents[2]
CHAIN_NODES = 2_000
SCRATCH_TABLES = "select table_name from information_schema.tables where contains(table_name, '__cc_')"
PASSES_LOGGED = re.compile(r'kith_connected_components: \S*\."(?P<table>\w+)" converged after (?P<passes>\d+) passes')


def chain(n: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A-B-C-...: node ids in chain order, or shuffled along the chain when rng is given."""
    order = np.arange(n) if rng is None else rng.permutation(n)
    return order[:-1], order[1:]


def star(n: int, centre: int) -> tuple[np.ndarray, np.ndarray]:
    """Every node linked to `centre`."""
    leaves = np.array([i for i in range(n) if i != centre])
    return np.full(len(leaves), centre), leaves


def small_components(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` random trees of 2-8 nodes, node ids shuffled over all of them."""
    src, dst, offset = [], [], 0
    for size in rng.integers(2, 9, size=count):
        for i in range(1, size):
            src.append(offset + i)
            dst.append(offset + int(rng.integers(0, i)))
        offset += size
    ids = rng.permutation(offset)
    return ids[np.array(src)], ids[np.array(dst)]


def messy() -> tuple[np.ndarray, np.ndarray]:
    """Duplicates, both directions, self-loops (one node has nothing else), a gap in the ids."""
    edges = [(5, 3), (3, 5), (3, 5), (5, 5), (9, 9), (12, 7), (7, 12), (12, 12), (7, 3), (20, 21), (21, 20)]
    return np.array([a for a, _ in edges]), np.array([b for _, b in edges])


def random_graph(rng: np.random.Generator, n_nodes: int, n_edges: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, n_nodes, size=n_edges), rng.integers(0, n_nodes, size=n_edges)


def graphs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20_140_901)
    return {
        "chain": chain(CHAIN_NODES),
        "chain_shuffled": chain(CHAIN_NODES, rng),
        "star_min_centre": star(1_000, 0),
        "star_mid_centre": star(1_000, 500),
        "small": small_components(rng, 3_000),
        "messy": messy(),
        "random": random_graph(rng, 15_000, 20_000),
        "empty": (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)),
    }


def expected_labels(src: np.ndarray, dst: np.ndarray) -> dict[int, int]:
    """scipy's labels of the nodes that appear in an edge."""
    if len(src) == 0:
        return {}
    labels = component_labels(src, dst, int(max(src.max(), dst.max())) + 1)
    return {int(node): int(labels[node]) for node in np.unique(np.concatenate([src, dst]))}


@dataclass
class Project:
    """A throwaway dbt project on a throwaway DuckDB file; dbt runs in-process."""

    root: Path
    log_messages: list[str] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return self.root / "w.duckdb"

    def dbt(self, *args: str) -> dbtRunnerResult:
        def collect(event) -> None:  # dbt's EventMsg
            if event.info.name == "JinjaLogInfo":
                self.log_messages.append(event.info.msg)

        try:
            return dbtRunner(callbacks=[collect]).invoke(
                [
                    *args,
                    "--project-dir",
                    str(self.root),
                    "--profiles-dir",
                    str(self.root),
                    "--target-path",
                    str(self.root / "target"),
                    "--log-path",
                    str(self.root / "logs"),
                ]
            )
        finally:  # dbt-duckdb keeps the file open in this process: release it for the test
            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager.close_all_connections()
            gc.collect()

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def passes(self) -> dict[str, int]:
        found = (PASSES_LOGGED.search(message) for message in self.log_messages)
        return {match["table"]: int(match["passes"]) for match in found if match}


def errors(result: dbtRunnerResult) -> str:
    messages = [str(result.exception)] if result.exception else []
    for node_result in getattr(result.result, "results", None) or []:
        if node_result.message and str(node_result.status) in {"error", "fail"}:
            messages.append(node_result.message)
    return "\n".join(messages)


def write_project(root: Path, edges: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Edge tables main.edges_<graph>, one model cc_<graph> per graph, and the real model on links."""
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    project = {
        "name": "kith_components_test",
        "version": "0.1.0",
        "config-version": 2,
        "profile": "kith_components_test",
        "model-paths": ["models"],
        # the project's identity macros in place: the test runs the code the project runs
        "macro-paths": ["macros", str(REPO / "macros" / "identity")],
        "vars": {"kith__identity_engine": "sql", "kith__identity_max_iterations": 50},
        "flags": {"send_anonymous_usage_stats": False, "partial_parse": False},
    }
    profile = {
        "kith_components_test": {
            "target": "test",
            "outputs": {"test": {"type": "duckdb", "path": str(root / "w.duckdb"), "schema": "main", "threads": 2}},
        }
    }
    sources = {
        "version": 2,
        "sources": [{"name": "graphs", "schema": "main", "tables": [{"name": f"edges_{name}"} for name in edges]}],
    }
    (root / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    (root / "profiles.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    (root / "models" / "_sources.yml").write_text(yaml.safe_dump(sources, sort_keys=False))
    for name in edges:
        (root / "models" / f"cc_{name}.sql").write_text(
            "{{ config(materialized='table', post_hook=\"{{ kith_connected_components_drop_scratch(this) }}\") }}\n"
            f"{{{{ kith_connected_components_model(source('graphs', 'edges_{name}')) }}}}\n"
        )
    (root / "models" / "int_identity_links.sql").write_text("select * from {{ source('graphs', 'edges_random') }}\n")
    model = REPO / "models" / "intermediate" / "identity" / "int_identity_components_sql.sql"
    shutil.copy(model, root / "models" / model.name)

    with duckdb.connect(str(root / "w.duckdb")) as connection:
        for name, (src, dst) in edges.items():
            connection.register(
                "pairs", pa.table({"node_id_a": src.astype(np.int64), "node_id_b": dst.astype(np.int64)})
            )
            connection.execute(f"create table main.edges_{name} as select * from pairs")
            connection.unregister("pairs")
        # a link with a missing endpoint is no edge: node 99 must not appear
        connection.execute("insert into main.edges_messy values (99, null)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict, dbtRunnerResult]]:
    edges = graphs()
    project = Project(tmp_path_factory.mktemp("components_sql"))
    write_project(project.root, edges)
    result = project.dbt("run")
    yield project, edges, result


def test_sql_labels_equal_scipy_labels(built: tuple[Project, dict, dbtRunnerResult]) -> None:
    project, edges, result = built
    assert result.success, errors(result)
    for name, (src, dst) in edges.items():
        got = project.query(f"select node_id, component_id from main.cc_{name} order by node_id")
        assert got == sorted(expected_labels(src, dst).items()), name
    got = project.query("select node_id, component_id from main.int_identity_components_sql order by node_id")
    assert got == sorted(expected_labels(*edges["random"]).items())
    # the post-hooks dropped every scratch table
    assert project.query(SCRATCH_TABLES) == []


def test_passes_grow_with_log_n(built: tuple[Project, dict, dbtRunnerResult]) -> None:
    project, _, result = built
    assert result.success, errors(result)
    passes = project.passes()
    print(f"passes: {passes}")
    bound = 2 * math.log2(CHAIN_NODES) + 4
    assert passes["cc_chain__cc_result"] <= bound
    assert passes["cc_chain_shuffled__cc_result"] <= bound
    assert passes["cc_empty__cc_result"] == 0
    assert passes["cc_star_min_centre__cc_result"] == 0  # already a star on its minimum


def test_too_few_passes_fail_loudly(built: tuple[Project, dict, dbtRunnerResult]) -> None:
    project, _, _ = built
    result = project.dbt("run", "--select", "cc_chain", "--vars", "{kith__identity_max_iterations: 2}")
    assert not result.success
    message = errors(result)
    assert "no convergence after 2 passes (max_iterations=2)" in message
    assert "kith__identity_max_iterations" in message
    assert project.query(SCRATCH_TABLES) == []


def test_compile_only_runs_no_loop(built: tuple[Project, dict, dbtRunnerResult]) -> None:
    """dbt compile, docs and sqlfluff render the model without touching the warehouse."""
    project, _, _ = built
    project.log_messages.clear()
    result = project.dbt("compile", "--select", "cc_chain")
    assert result.success, errors(result)
    compiled = next((project.root / "target" / "compiled").rglob("cc_chain.sql")).read_text()
    assert "compiled only" in compiled
    assert project.passes() == {}
    assert project.query(SCRATCH_TABLES) == []
