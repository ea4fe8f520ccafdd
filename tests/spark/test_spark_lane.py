"""The spark target (docs/spark.md): the sample built on local Spark (session method, local[2]) agrees
with the DuckDB build, model by model.

Runs in `make test-spark` (KITH_SPARK_TESTS=1, the .venv-spark environment with dbt-spark and
PySpark); skipped elsewhere. The raw datasets reach Spark as `kith lake` writes them (Parquet), the
`spark_ready` selector (selectors.yml) says what is built, and every model and seed built is
compared with the DuckDB warehouse built from the same landing files: same columns, same rows
(multiset), read from the Parquet files of Spark's tables, after a second, incremental build of
the customer id registry (ids stay stable).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Sample, run_kith
from tests.spark.compare import compare_as_multisets, compare_by_key

pytestmark = pytest.mark.skipif(
    os.environ.get("KITH_SPARK_TESTS") != "1", reason="the Spark lane runs in `make test-spark`"
)

SELECTOR = "spark_ready"
# columns that hold the time or history of the build, not data: issued_at is the build's time;
# was_issued_before is true for every id after Spark's second build (checked on its own below)
BUILD_TIME_COLUMNS = {
    "int_customer_id_registry": {"issued_at"},
    "int_customer_ids_assigned": {"was_issued_before"},
    # when the identity nodes were last refreshed (the build's run_started_at; incremental identity)
    "int_identity_nodes": {"refreshed_at"},
    # when the fits ran, and the run id made from it
    "fct_scoring_model_fits": {"fitted_at"},
    "fct_scoring_model_runs": {"fitted_at", "model_run_id"},
    "fct_propensity_coefficients": {"fitted_at"},
}
# The main marts, compared row by row on their keys: keys, segments and every other non-numeric
# value exactly, numbers within a relative tolerance (the scores come from numerical fits in Python
# models: BG/NBD, Gamma-Gamma, logistic regression; the same inputs in the same order give the same
# fits up to floating-point noise). Every other table is compared as a multiset, numbers to 6 places.
MAIN_MARTS = {
    "dim_customer_identifiers": ["identifier_type", "identifier_value"],
    "dim_customers": ["customer_id"],
    "dim_customer_scores": ["customer_id"],
    "fct_customer_scores_computed": ["customer_id"],
    "dim_audience_candidates": ["customer_id"],
    "aud_browsed_in_store_offer": ["customer_id"],
    "aud_call_centre_priority": ["customer_id"],
    "aud_early_access_limited_edition": ["customer_id"],
    "aud_lapsed_buyers": ["customer_id"],
    "aud_win_back_high_value": ["customer_id"],
}
FIT_TOLERANCE = 1e-6
SNAPSHOTS = ("snap_customer_identifiers", "snap_customer_profiles", "snap_customer_consents")
# models that one build leaves empty on both engines: identifier moves need two snapshots that
# differ (test_a_changed_and_a_deleted_row_version_the_same_on_both_engines fills it)
EMPTY_AFTER_ONE_BUILD = {"fct_customer_id_changes"}
# models only one engine builds: Spark's components engine is the SQL loop, DuckDB's scipy (their
# common output, int_identity_components, is compared)
SPARK_ONLY = {"int_identity_components_sql"}


@dataclass(frozen=True)
class SparkBuild:
    warehouse: Path  # spark.sql.warehouse.dir: <schema>.db/<table>/part-*.parquet
    target: Path  # run_results.json and manifest.json of the full build
    stdout: str
    env: dict[str, str]  # the Spark build's environment (for builds after the comparison)


@pytest.fixture(scope="module")
def spark_build(built_sample: Sample, tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    pytest.importorskip("pyspark", reason="make test-spark installs the spark extra")
    root = tmp_path_factory.mktemp("spark")
    env = {
        **built_sample.env,
        "KITH_TARGET": "spark",
        "KITH_LAKE": str(root / "lake"),
        "KITH_SPARK_WAREHOUSE": str(root / "warehouse"),
        "KITH_SPARK_METASTORE": str(root / "metastore"),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }
    proc = run_kith(env, "lake")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = run_kith(env, "build", "--selector", SELECTOR, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    full = root / "full_build"
    full.mkdir()
    for name in ("run_results.json", "manifest.json"):
        shutil.copy(root / "target" / name, full / name)
    # the id registry again, now incremental (it appends the ids not issued yet: none), and what
    # reads it: the ids must stay as they are (the comparison with DuckDB runs after this build)
    # the snapshots run a second time too: their update path (the MERGE emulated as a rewrite of the
    # Parquet table, macros/cross_db/spark_snapshot.sql) over unchanged data must add no version
    again = run_kith(
        env,
        "build",
        "--select",
        "int_customer_ids_assigned",
        "int_customer_id_registry",
        "dim_customer_identifiers",
        *SNAPSHOTS,
    )
    assert again.returncode == 0, again.stdout[-5000:] + again.stderr[-5000:]
    rebuilt = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert {r["unique_id"] for r in rebuilt if r["unique_id"].startswith("snapshot.")} == {
        f"snapshot.kith.{name}" for name in SNAPSHOTS
    }
    assert all(r["status"] in ("success", "pass") for r in rebuilt), [(r["unique_id"], r["status"]) for r in rebuilt]
    assert {r["unique_id"] for r in rebuilt if r["unique_id"].startswith("model.")} == {
        "model.kith.int_customer_ids_assigned",
        "model.kith.int_customer_id_registry",
        "model.kith.dim_customer_identifiers",
    }
    return SparkBuild(root / "warehouse", full, proc.stdout, env)


def _built_nodes(build: SparkBuild) -> dict[str, dict]:
    results = json.loads((build.target / "run_results.json").read_text())
    manifest = json.loads((build.target / "manifest.json").read_text())
    return {
        r["unique_id"]: manifest["nodes"][r["unique_id"]]
        for r in results["results"]
        if r["unique_id"].split(".")[0] in ("model", "seed")
    }


def test_every_selected_node_builds_and_every_test_passes_on_spark(spark_build: SparkBuild) -> None:
    results = json.loads((spark_build.target / "run_results.json").read_text())["results"]
    # exposures are declarations: dbt reports them as no-op
    bad = [
        (r["unique_id"], r["status"])
        for r in results
        if r["status"] not in ("success", "pass", "warn") and not r["unique_id"].startswith("exposure.")
    ]
    assert not bad, bad
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds, kinds
    models = [r for r in results if r["unique_id"].startswith("model.")]
    # every model, fct_customer_id_changes (which reads a snapshot) included, and every snapshot
    assert len(models) >= 72, f"the spark_ready selection shrank: {len(models)} models"
    assert "model.kith.fct_customer_id_changes" in {r["unique_id"] for r in models}
    snapshots = {r["unique_id"] for r in results if r["unique_id"].startswith("snapshot.")}
    assert snapshots == {f"snapshot.kith.{name}" for name in SNAPSHOTS}, snapshots
    assert len([r for r in results if r["unique_id"].startswith("unit_test.")]) >= 49


def test_models_and_seeds_have_the_same_contents_as_on_duckdb(built_sample: Sample, spark_build: SparkBuild) -> None:
    nodes = _built_nodes(spark_build)
    assert nodes
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    warehouse = str(built_sample.warehouse).replace("'", "''")
    con.execute(f"attach '{warehouse}' as duck (read_only)")
    problems = []
    views: list[str] = []
    compared_marts: set[str] = set()
    for node in sorted(nodes.values(), key=lambda n: n["unique_id"]):
        schema, name = node["schema"], node["alias"] or node["name"]
        if name in SPARK_ONLY:
            continue
        if node["config"]["materialized"] == "view":
            # a view has no files to read without Spark; the tables built on it are compared
            # (int_orders_unioned -> fct_orders, int_product_variants and int_inventory_by_location
            # -> int_product_stock_snapshots)
            views.append(name)
            continue
        files = spark_build.warehouse / f"{schema}.db" / name
        assert any(files.glob("*.parquet")), f"no Parquet files for {schema}.{name} in {files}"
        spark_relation = f"read_parquet('{str(files).replace(chr(39), chr(39) * 2)}/*.parquet')"
        duck_relation = f'duck."{schema}"."{name}"'
        duck_names = [row[0] for row in con.execute(f"describe {duck_relation}").fetchall()]
        spark_names = [row[0] for row in con.execute(f"describe select * from {spark_relation}").fetchall()]
        if sorted(duck_names) != sorted(spark_names):
            problems.append(f"{schema}.{name}: columns differ: {sorted(set(duck_names) ^ set(spark_names))}")
            continue
        compared = [column for column in duck_names if column not in BUILD_TIME_COLUMNS.get(name, set())]
        label = f"{schema}.{name}"
        if name in MAIN_MARTS:
            compared_marts.add(name)
            problems += compare_by_key(
                con, label, duck_relation, spark_relation, MAIN_MARTS[name], compared, tolerance=FIT_TOLERANCE
            )
        else:
            problems += compare_as_multisets(con, label, duck_relation, spark_relation, compared)
        rows = con.execute(f"select count(*) from {duck_relation}").fetchone()[0]
        if (
            rows == 0
            and node["resource_type"] == "model"
            and schema in ("staging", "marts")
            and name not in EMPTY_AFTER_ONE_BUILD
        ):
            problems.append(f"{label}: empty on both engines (the sample should fill it)")
    assert not problems, "\n".join(problems)
    assert compared_marts == set(MAIN_MARTS), f"main marts not built on Spark: {set(MAIN_MARTS) - compared_marts}"
    assigned = spark_build.warehouse / "intermediate.db" / "int_customer_ids_assigned"
    not_reissued = con.execute(
        f"select count(*) from read_parquet('{assigned}/*.parquet') where not was_issued_before"
    ).fetchone()[0]
    assert not_reissued == 0, f"{not_reissued} ids not found in the registry by the second build"
    assert sorted(views) == ["int_inventory_by_location", "int_orders_unioned", "int_product_variants"], views


def _snapshot_nodes(build: SparkBuild) -> dict[str, dict]:
    manifest = json.loads((build.target / "manifest.json").read_text())
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "snapshot"}


def _spark_relation(build: SparkBuild, schema: str, name: str) -> str:
    files = build.warehouse / f"{schema}.db" / name
    assert any(files.glob("*.parquet")), f"no Parquet files for {schema}.{name} in {files}"
    return f"read_parquet('{str(files).replace(chr(39), chr(39) * 2)}/*.parquet')"


def _snapshot_keys(node: dict) -> list[str]:
    key = node["config"]["unique_key"]
    return [key] if isinstance(key, str) else list(key)


def _versions(relation: str, node: dict) -> str:
    """What a snapshot holds independently of the engine and the build's time: its unique key, the
    tracked columns, whether the version is current, and how many versions the key has."""
    keys = _snapshot_keys(node)
    tracked = [c for c in node["config"]["check_cols"] if c not in keys]
    key_list = ", ".join(keys)
    return (
        f"(select {key_list}, {', '.join(tracked)}, dbt_valid_to is null as is_current, "
        f"count(*) over (partition by {key_list}) as versions from {relation})"
    )


def _duck_connection(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{str(warehouse).replace(chr(39), chr(39) * 2)}' as duck (read_only)")
    return con


def test_snapshots_hold_the_same_versions_as_on_duckdb(built_sample: Sample, spark_build: SparkBuild) -> None:
    """Spark built the snapshots twice (full build, then the second build over the same data),
    DuckDB once: the same keys, tracked values and one current version per key on both."""
    nodes = _snapshot_nodes(spark_build)
    assert set(nodes) == set(SNAPSHOTS), set(nodes)
    con = _duck_connection(built_sample.warehouse)
    problems = []
    for name, node in sorted(nodes.items()):
        spark_relation = _spark_relation(spark_build, node["schema"], name)
        duck_relation = f'duck."{node["schema"]}"."{name}"'
        spark_versions, duck_versions = _versions(spark_relation, node), _versions(duck_relation, node)
        columns = [row[0] for row in con.execute(f"describe select * from {duck_versions}").fetchall()]
        problems += compare_as_multisets(con, name, duck_versions, spark_versions, columns)
        rows, current, keys = con.execute(
            f"select count(*), count(*) filter (where is_current), "
            f"count(distinct ({', '.join(_snapshot_keys(node))})) from {spark_versions}"
        ).fetchone()
        if not (rows > 0 and rows == current == keys):
            problems.append(f"{name}: {rows} rows, {current} current, {keys} keys on Spark after two unchanged runs")
        scd_ids = con.execute(f"select count(*) - count(distinct dbt_scd_id) from {spark_relation}").fetchone()[0]
        if scd_ids:
            problems.append(f"{name}: {scd_ids} duplicated dbt_scd_id on Spark")
    assert not problems, "\n".join(problems)


def _rewrite_spark_table(con: duckdb.DuckDBPyConnection, folder: Path, statements: list[tuple[str, list[str]]]) -> None:
    """Change a Spark Parquet table's files in place: ``statements`` run on a copy named ``t``."""
    files = sorted(folder.glob("*.parquet"))
    assert files, folder
    con.execute("create or replace temp table t as select * from read_parquet(?)", [[str(f) for f in files]])
    for statement, params in statements:
        con.execute(statement, params)
    # instants as UTC-adjusted Parquet timestamps, the type Spark's timestamp columns read
    columns = [
        f'"{name}"::timestamptz as "{name}"' if dtype == "TIMESTAMP" else f'"{name}"'
        for name, dtype, *_ in con.execute("describe t").fetchall()
    ]
    for path in folder.iterdir():
        if path.name.startswith(("part-", ".part-")):
            path.unlink()
    target = str(folder / "part-00000-kith-test.parquet").replace("'", "''")
    con.execute(f"copy (select {', '.join(columns)} from t) to '{target}' (format parquet)")


def test_a_changed_and_a_deleted_row_version_the_same_on_both_engines(
    built_sample: Sample, spark_build: SparkBuild, tmp_path: Path
) -> None:
    """One identifier moved to another customer and one removed from dim_customer_identifiers, then
    the snapshot run again: the moved one gets its version closed and a new current one, the removed
    one is invalidated (hard_deletes: invalidate), on Spark as on DuckDB, and fct_customer_id_changes
    reports the move on both. Changes dim_customer_identifiers on Spark: keep this test last."""
    snap = _snapshot_nodes(spark_build)["snap_customer_identifiers"]
    con = _duck_connection(built_sample.warehouse)
    identifiers = "duck.marts.dim_customer_identifiers"
    moved_type, moved_value, old_id = con.execute(
        f"select identifier_type, identifier_value, customer_id from {identifiers} "
        "order by identifier_type, identifier_value limit 1"
    ).fetchone()
    new_id = con.execute(f"select max(customer_id) from {identifiers} where customer_id <> ?", [old_id]).fetchone()[0]
    gone_type, gone_value = con.execute(
        f"select identifier_type, identifier_value from {identifiers} "
        "order by identifier_type desc, identifier_value desc limit 1"
    ).fetchone()
    assert (gone_type, gone_value) != (moved_type, moved_value)
    change = [
        (
            "update t set customer_id = ? where identifier_type = ? and identifier_value = ?",
            [new_id, moved_type, moved_value],
        ),
        ("delete from t where identifier_type = ? and identifier_value = ?", [gone_type, gone_value]),
    ]
    snap_relation = f'"{snap["schema"]}"."snap_customer_identifiers"'
    rows_before = con.execute(f"select count(*) from duck.{snap_relation}").fetchone()[0]
    con.close()

    # DuckDB: a copy of the built warehouse, changed with SQL
    duck_copy = tmp_path / "duck" / "kith.duckdb"
    duck_copy.parent.mkdir()
    shutil.copy(built_sample.warehouse, duck_copy)
    writer = duckdb.connect(str(duck_copy))
    for statement, params in change:
        writer.execute(statement.replace(" t ", " marts.dim_customer_identifiers "), params)
    writer.close()
    duck_env = {
        **built_sample.env,
        "KITH_WAREHOUSE": str(duck_copy),
        "DBT_TARGET_PATH": str(tmp_path / "duck_target"),
        "DBT_LOG_PATH": str(tmp_path / "duck_logs"),
    }
    # Spark: the table's Parquet files rewritten
    scratch = duckdb.connect()
    scratch.execute("set TimeZone = 'UTC'")
    folder = spark_build.warehouse / "marts.db" / "dim_customer_identifiers"
    _rewrite_spark_table(scratch, folder, change)
    changed = scratch.execute(
        "select count(*) from t where customer_id = ? and identifier_type = ? and identifier_value = ?",
        [new_id, moved_type, moved_value],
    ).fetchone()[0]
    assert changed == 1, "the Spark table must hold the moved identifier once"

    selected = ("--select", "snap_customer_identifiers", "fct_customer_id_changes")
    for label, proc in (
        ("duckdb", run_kith(duck_env, "build", "--no-publish", *selected)),
        ("spark", run_kith(spark_build.env, "build", *selected, timeout=1200)),
    ):
        assert proc.returncode == 0, label + ": " + proc.stdout[-5000:] + proc.stderr[-5000:]

    con = _duck_connection(duck_copy)
    relations = {
        "duckdb": f"duck.{snap_relation}",
        "spark": _spark_relation(spark_build, snap["schema"], "snap_customer_identifiers"),
    }
    for label, relation in relations.items():
        moved = con.execute(
            f"select customer_id, dbt_valid_to is null from {relation} "
            "where identifier_type = ? and identifier_value = ? order by dbt_valid_from",
            [moved_type, moved_value],
        ).fetchall()
        assert moved == [(old_id, False), (new_id, True)], (label, moved)
        closed, opened = con.execute(
            f"select max(dbt_valid_to), max(dbt_valid_from) from {relation} "
            "where identifier_type = ? and identifier_value = ?",
            [moved_type, moved_value],
        ).fetchone()
        assert closed == opened, (label, "the old version must close when the new one starts", closed, opened)
        gone = con.execute(
            f"select customer_id, dbt_valid_to is null from {relation} "
            "where identifier_type = ? and identifier_value = ?",
            [gone_type, gone_value],
        ).fetchall()
        assert len(gone) == 1 and gone[0][1] is False, (label, "the removed identifier must be invalidated", gone)
        rows, current = con.execute(
            f"select count(*), count(*) filter (where dbt_valid_to is null) from {relation}"
        ).fetchone()
        assert (rows, current) == (rows_before + 1, rows_before - 1), (label, rows, current, rows_before)
    versions = {label: _versions(relation, snap) for label, relation in relations.items()}
    columns = [row[0] for row in con.execute(f"describe select * from {versions['duckdb']}").fetchall()]
    problems = compare_as_multisets(con, "snap_customer_identifiers", versions["duckdb"], versions["spark"], columns)
    # the move, as fct_customer_id_changes reports it (its id and time hold the build's time)
    changes = {
        "duckdb": "duck.marts.fct_customer_id_changes",
        "spark": _spark_relation(spark_build, "marts", "fct_customer_id_changes"),
    }
    reported = ["previous_customer_id", "customer_id", "change_type", "identifiers_moved", "example_identifier"]
    problems += compare_as_multisets(con, "fct_customer_id_changes", changes["duckdb"], changes["spark"], reported)
    assert not problems, "\n".join(problems)
    moves = con.execute(
        f"select previous_customer_id, customer_id, identifiers_moved from {changes['spark']}"
    ).fetchall()
    assert moves == [(old_id, new_id, 1)], moves
