"""Publishing the public marts for BI (kith.publish): whole, readable by DuckDB 1.4, personal data
hashed unless granted, swapped so that a reader never sees an error or half a publication."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kith.config import Paths, UserError
from kith.publish import publish_marts
from tests.bi.conftest import HERE, run_with_duckdb14
from tests.conftest import run_kith

HASH = re.compile(r"^[0-9a-f]{64}$")


def public_marts(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "kith" and n.get("access") == "public"
    }


def pii_columns(node: dict[str, Any]) -> set[str]:
    return {
        name
        for name, c in node["columns"].items()
        if c.get("meta", {}).get("contains_pii") or c.get("config", {}).get("meta", {}).get("contains_pii")
    }


@contextmanager
def warehouse_and_publication(warehouse: Path, published_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(f"attach '{published_file}' as pub (read_only)")
        yield con
    finally:
        con.close()


def differing_rows(con: duckdb.DuckDBPyConnection, mart: str, exclude: set[str]) -> int:
    """Rows in one copy and not the other (both ways), comparing every column but ``exclude``."""
    cols = ", ".join(f'"{c}"' for c in exclude)
    select = f"select * exclude ({cols})" if exclude else "select *"
    left, right = f"{select} from wh.marts.{mart}", f"{select} from pub.main.{mart}"
    query = f"select count(*) from (({left} except all {right}) union all ({right} except all {left}))"
    return con.execute(query).fetchone()[0]


# -- a tiny warehouse for the failure paths ------------------------------------------------------
@pytest.fixture()
def tiny(tmp_path: Path) -> tuple[Paths, Path]:
    """A warehouse with one public mart (one PII column) and the manifest that describes it."""
    warehouse = tmp_path / "warehouse" / "kith.duckdb"
    warehouse.parent.mkdir()
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        "create table marts.dim_things as select 't' || i as thing_id, 'x' || i || '@example.com' as email "
        "from range(3) t(i)"
    )
    con.close()
    manifest = tmp_path / "manifest.json"
    node = {
        "resource_type": "model",
        "package_name": "kith",
        "access": "public",
        "name": "dim_things",
        "schema": "marts",
        "alias": "dim_things",
        "description": "Things.",
        "config": {"materialized": "table", "enabled": True},
        "columns": {
            "thing_id": {"name": "thing_id", "description": "Id."},
            "email": {"name": "email", "description": "Email.", "meta": {"contains_pii": True}},
        },
    }
    manifest.write_text(json.dumps({"metadata": {"project_name": "kith"}, "nodes": {"model.kith.dim_things": node}}))
    return Paths(tmp_path, tmp_path, warehouse, tmp_path / "reports"), manifest


# -- what is published -----------------------------------------------------------------------------
def test_every_public_mart_is_published_whole(published) -> None:
    pub = published.publication
    expected = public_marts(published.manifest)
    assert "dim_customers" in expected
    assert set(pub.row_counts) == set(expected)
    con = duckdb.connect(str(published.paths.warehouse), read_only=True)
    try:
        in_warehouse = {m: con.execute(f"select count(*) from marts.{m}").fetchone()[0] for m in expected}
    finally:
        con.close()
    assert pub.row_counts == in_warehouse
    assert in_warehouse["dim_customers"] > 0

    con = duckdb.connect(str(pub.duckdb_file), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        counted = {m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in expected}
        stated = dict(con.execute("select mart, row_count from _publication").fetchall())
        commented = con.execute(
            "select count(*) from duckdb_columns() where table_name = 'dim_customers' and comment is not null"
        ).fetchone()[0]
        parquet = {
            m: con.execute(
                "select count(*) from read_parquet(?)", [str(pub.directory / "parquet" / f"{m}.parquet")]
            ).fetchone()[0]
            for m in expected
        }
    finally:
        con.close()
    assert tables == set(expected) | {"_publication"}
    assert counted == stated == parquet == in_warehouse
    assert commented == len(expected["dim_customers"]["columns"]), "column descriptions not carried over"

    manifest = json.loads(pub.manifest_file.read_text())
    assert {m: e["rows"] for m, e in manifest["marts"].items()} == in_warehouse
    assert manifest["version"] == pub.version and manifest["published_at"] and manifest["built_at"]
    assert (pub.directory / "parquet").readlink() == Path("versions", pub.version)
    assert json.loads((pub.parquet_dir / "manifest.json").read_text()) == manifest
    assert not list(pub.directory.glob("*.wal")), "the published file must be complete without a WAL"


DUCKDB14_READER = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
stated = dict(con.execute("select mart, row_count from _publication").fetchall())
rows = {m: len(con.execute(f'select * from "{m}"').fetchall()) for m in stated}
parquet = {m: len(con.execute("select * from read_parquet(?)", [f"{sys.argv[2]}/{m}.parquet"]).fetchall())
           for m in stated}
con.close()
print(json.dumps({"duckdb": duckdb.__version__, "stated": stated, "rows": rows, "parquet": parquet}))
"""

SQLALCHEMY_READER = """
import json, sys
import duckdb, sqlalchemy
engine = sqlalchemy.create_engine(f"duckdb:///{sys.argv[1]}", connect_args={"read_only": True})
with engine.connect() as con:
    tables = sqlalchemy.inspect(con).get_table_names()
    rows = {t: con.execute(sqlalchemy.text(f'select count(*) from "{t}"')).scalar() for t in tables}
print(json.dumps({"duckdb": duckdb.__version__, "sqlalchemy": sqlalchemy.__version__, "rows": rows}))
"""


def test_published_duckdb_file_opens_in_duckdb_1_4(published, duckdb14: Path, tmp_path: Path) -> None:
    pub = published.publication
    proc = run_with_duckdb14(duckdb14, DUCKDB14_READER, str(pub.duckdb_file), str(pub.directory / "parquet"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout)
    assert seen["duckdb"].startswith("1.4."), seen["duckdb"]
    assert seen["stated"] == seen["rows"] == seen["parquet"] == pub.row_counts

    # the control: DuckDB 2.0's default storage is what DuckDB 1.4 cannot open
    default = tmp_path / "default_storage.duckdb"
    con = duckdb.connect(str(default))
    con.execute("create table t as select 1 as x")
    con.close()
    proc = run_with_duckdb14(duckdb14, DUCKDB14_READER, str(default), str(tmp_path))
    assert proc.returncode != 0 and "newer version" in proc.stderr, proc.stderr[-2000:]


def test_published_duckdb_file_opens_through_sqlalchemy_and_duckdb_engine(published, duckdb14: Path) -> None:
    pub = published.publication
    proc = run_with_duckdb14(duckdb14, SQLALCHEMY_READER, str(pub.duckdb_file))
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout)
    assert seen["duckdb"].startswith("1.4.") and seen["sqlalchemy"].startswith("2.")
    assert seen["rows"] == {**pub.row_counts, "_publication": len(pub.marts)}


def test_personal_data_is_hashed_or_masked_by_default(published) -> None:
    pub = published.publication
    flagged = {m: pii_columns(n) for m, n in public_marts(published.manifest).items()}
    assert flagged["dim_customer_identifiers"] and flagged["dim_customers"]
    assert not pub.pii_included
    assert {m.name: set(m.masked_columns) for m in pub.marts} == flagged
    with warehouse_and_publication(published.paths.warehouse, pub.duckdb_file) as con:
        for mart, columns in flagged.items():
            assert differing_rows(con, mart, columns) == 0, f"{mart}: columns without PII changed"
            for column in columns:
                data_type = con.execute(
                    "select data_type from duckdb_columns() where database_name = 'wh' and table_name = ? "
                    "and column_name = ?",
                    [mart, column],
                ).fetchone()[0]
                value = f'"{column}"'
                if data_type.endswith("[]"):
                    value = f'unnest("{column}")'
                original = {r[0] for r in con.execute(f"select distinct {value} from wh.marts.{mart}").fetchall()}
                shown = {r[0] for r in con.execute(f"select distinct {value} from pub.main.{mart}").fetchall()}
                if data_type in ("VARCHAR", "VARCHAR[]"):
                    assert not (original - {None}) & shown, f"{mart}.{column}: a value is published as it is"
                    assert all(HASH.match(v) for v in shown - {None}), f"{mart}.{column} is not hashed"
                    assert len(shown) == len(original), f"{mart}.{column}: hashing merged or split values"
                else:
                    assert shown == {None}, f"{mart}.{column} ({data_type}) is not masked"


def test_personal_data_is_published_when_granted(published, tmp_path: Path, monkeypatch) -> None:
    flagged = {m: pii_columns(n) for m, n in public_marts(published.manifest).items()}
    monkeypatch.setenv("KITH_PUBLISH_PII", "1")
    pub = publish_marts(published.paths, manifest_path=published.manifest_path, publish_dir=tmp_path)
    assert pub.pii_included and not any(m.masked_columns for m in pub.marts)
    assert json.loads(pub.manifest_file.read_text())["pii_included"] is True
    with warehouse_and_publication(published.paths.warehouse, pub.duckdb_file) as con:
        for mart in flagged:
            assert differing_rows(con, mart, set()) == 0, f"{mart} differs from the warehouse"


def test_an_explicit_refusal_wins_over_the_environment(tiny, tmp_path: Path, monkeypatch) -> None:
    paths, manifest = tiny
    monkeypatch.setenv("KITH_PUBLISH_PII", "1")
    refused = publish_marts(paths, manifest_path=manifest, publish_dir=tmp_path / "p", include_pii=False)
    assert not refused.pii_included and refused.marts[0].masked_columns == ("email",)


def test_hashes_are_stable_only_with_a_key(tiny, tmp_path: Path, monkeypatch) -> None:
    paths, manifest = tiny

    def hashed() -> set[str]:
        pub = publish_marts(paths, manifest_path=manifest, publish_dir=tmp_path / "p", include_pii=False)
        con = duckdb.connect(str(pub.duckdb_file), read_only=True)
        try:
            return {r[0] for r in con.execute("select email from dim_things").fetchall()}
        finally:
            con.close()

    monkeypatch.delenv("KITH_PUBLISH_PII_KEY", raising=False)
    assert hashed().isdisjoint(hashed()), "without a key every publication must hash differently"
    monkeypatch.setenv("KITH_PUBLISH_PII_KEY", "a secret from the BI team's vault")
    first = hashed()
    assert first == hashed() and len(first) == 3 and all(HASH.match(v) for v in first)


# -- swaps under a reader --------------------------------------------------------------------------
def test_reader_sees_whole_publications_during_build_and_publish(published, built_sample, tmp_path: Path) -> None:
    """A reader queries the publication in a loop while publications of two different states of the
    data are swapped in, and while a dbt build rewrites a mart of the warehouse (holding its lock)."""
    shared = published.paths  # state A: the built sample, rebuilt (same data) by the build below
    changed_copy = tmp_path / "changed" / "kith.duckdb"  # state B: a copy with identifiers erased
    changed_copy.parent.mkdir()
    shutil.copy2(shared.warehouse, changed_copy)
    con = duckdb.connect(str(changed_copy))
    con.execute("delete from marts.dim_customer_identifiers where identifier_type = 'cookie_id'")
    con.close()
    target = tmp_path / "target"  # dbt's own target (a partial parse), not the shared one
    target.mkdir()
    for name in ("manifest.json", "partial_parse.msgpack"):
        if (built_sample.target / name).exists():
            shutil.copy2(built_sample.target / name, target / name)
    publish_dir = tmp_path / "published"

    def publish(warehouse: Path) -> dict[str, int]:
        paths = replace(shared, warehouse=warehouse)
        return publish_marts(paths, manifest_path=published.manifest_path, publish_dir=publish_dir).row_counts

    whole = publish(shared.warehouse)
    stop, out = tmp_path / "stop", tmp_path / "reads.jsonl"
    reader = subprocess.Popen(
        [sys.executable, str(HERE / "published_reader.py"), str(publish_dir), str(stop), str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_reads(out, 4)
        changed = publish(changed_copy)
        assert changed != whole
        for warehouse in (shared.warehouse, changed_copy):
            time.sleep(0.2)
            publish(warehouse)
        # a build rewrites dim_customer_identifiers in the shared warehouse; meanwhile B is republished
        env = {
            **os.environ,
            **built_sample.env,
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
            "KITH_PUBLISH_DIR": str(publish_dir),
        }
        build_log = tmp_path / "build.log"
        build_started = time.time()
        with build_log.open("w") as log:
            build = subprocess.Popen(
                [sys.executable, "-m", "kith.cli", "build", "--select", "dim_customer_identifiers"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        during_build = 0
        while build.poll() is None:
            time.sleep(0.3)
            publish(changed_copy)
            during_build += 1
        build_ended = time.time()
        assert build.returncode == 0, build_log.read_text()[-5000:]
        assert during_build >= 1
        assert publish(shared.warehouse) == whole
        _wait_for_reads(out, _count_lines(out) + 4)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert reader.returncode == 0, reader.stderr.read()
    reads = [json.loads(line) for line in out.read_text().splitlines()]
    errors = [r for r in reads if r["kind"] == "error"]
    assert not errors, errors[:5]
    for read in reads:
        assert read["counted"] == read["stated"], f"half a publication: {read}"
        assert read["counted"] in (whole, changed), f"not a published state: {read}"
    for kind in ("duckdb", "parquet"):
        states = [r["counted"] for r in reads if r["kind"] == kind]
        assert whole in states and changed in states, f"{kind}: the reader did not see both states"
        assert len({r["version"] for r in reads if r["kind"] == kind}) >= 3
        assert any(build_started < r["at"] < build_ended for r in reads if r["kind"] == kind)


def _count_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _wait_for_reads(path: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _count_lines(path) < n:
        assert time.monotonic() < deadline, "the reader does not read"
        time.sleep(0.05)


# -- failures leave the previous publication alone -------------------------------------------------
def test_a_mart_missing_from_the_warehouse_fails_and_keeps_the_previous_publication(tiny, tmp_path: Path) -> None:
    paths, manifest = tiny
    publish_dir = tmp_path / "published"
    first = publish_marts(paths, manifest_path=manifest, publish_dir=publish_dir)
    inode = first.duckdb_file.stat().st_ino
    before = first.manifest_file.read_text()
    data = json.loads(manifest.read_text())
    data["nodes"]["model.kith.dim_unbuilt"] = {
        **data["nodes"]["model.kith.dim_things"],
        "name": "dim_unbuilt",
        "alias": "dim_unbuilt",
    }
    manifest.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"not built.*dim_unbuilt"):
        publish_marts(paths, manifest_path=manifest, publish_dir=publish_dir)
    assert first.manifest_file.read_text() == before
    assert first.duckdb_file.stat().st_ino == inode
    assert (publish_dir / "parquet").readlink() == Path("versions", first.version)
    assert not [p for p in publish_dir.rglob("*") if ".partial" in p.name], "partial files left behind"


HOLD_WITH_DUCKDB = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); sys.stdin.read()"
HOLD_WITH_KITH = (
    "import sys; from pathlib import Path; from pipelines.ingest import warehouse_lock\n"
    "with warehouse_lock(Path(sys.argv[1]), 'kith build'):\n    print('ok', flush=True); sys.stdin.read()"
)


@pytest.mark.parametrize(
    ("holder_code", "message"),
    [(HOLD_WITH_DUCKDB, "locked by another process"), (HOLD_WITH_KITH, "busy.*kith build")],
    ids=["duckdb-writer", "kith-writer"],
)
def test_a_warehouse_being_written_is_a_user_error(tiny, tmp_path: Path, holder_code: str, message: str) -> None:
    paths, manifest = tiny
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code, str(paths.warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(UserError, match=message):
            publish_marts(paths, manifest_path=manifest, publish_dir=tmp_path / "published")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not (tmp_path / "published" / "kith_marts.duckdb").exists()


def test_old_publications_and_a_dead_publishers_leftovers_are_removed(tiny, tmp_path: Path) -> None:
    paths, manifest = tiny
    publish_dir = tmp_path / "published"
    versions = [
        publish_marts(paths, manifest_path=manifest, publish_dir=publish_dir, keep_versions=2).version for _ in range(3)
    ]
    # what a publisher killed half-way leaves behind
    (publish_dir / "versions" / ".20260101T000000000000Z-abcdef.partial").mkdir()
    (publish_dir / ".kith_marts.duckdb.20260101T000000000000Z-abcdef.partial.wal").write_text("x")
    (publish_dir / ".parquet.0123abcd.partial").symlink_to(Path("versions", versions[0]))
    versions.append(publish_marts(paths, manifest_path=manifest, publish_dir=publish_dir, keep_versions=2).version)
    assert len(set(versions)) == 4
    assert sorted(p.name for p in (publish_dir / "versions").iterdir()) == versions[-2:]
    assert (publish_dir / "parquet").readlink() == Path("versions", versions[-1])
    assert sorted(p.name for p in publish_dir.iterdir()) == [
        ".publish.lock",
        "kith_marts.duckdb",
        "manifest.json",
        "parquet",
        "versions",
    ]


def test_non_text_personal_data_is_masked(tiny, tmp_path: Path) -> None:
    paths, manifest = tiny
    con = duckdb.connect(str(paths.warehouse))
    con.execute("alter table marts.dim_things add column birth_date date default date '1990-01-02'")
    con.execute("alter table marts.dim_things add column emails varchar[] default ['a@example.com', 'b@example.com']")
    con.close()
    data = json.loads(manifest.read_text())
    columns = data["nodes"]["model.kith.dim_things"]["columns"]
    for name in ("birth_date", "emails"):
        columns[name] = {"name": name, "description": name, "config": {"meta": {"contains_pii": True}}}
    manifest.write_text(json.dumps(data))
    pub = publish_marts(paths, manifest_path=manifest, publish_dir=tmp_path / "published")
    con = duckdb.connect(str(pub.duckdb_file), read_only=True)
    try:
        rows = con.execute("select thing_id, email, birth_date, emails from dim_things order by 1").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == ["t0", "t1", "t2"]
    assert all(HASH.match(r[1]) and r[2] is None for r in rows)
    assert all(len(r[3]) == 2 and all(HASH.match(v) for v in r[3]) and r[3][0] != r[3][1] for r in rows)


# -- the command ------------------------------------------------------------------------------------
def test_kith_publish_command(tiny, tmp_path: Path) -> None:
    paths, manifest = tiny
    env = {"KITH_WAREHOUSE": str(paths.warehouse), "DBT_TARGET_PATH": str(manifest.parent)}
    proc = run_kith(env, "publish", "--to", str(tmp_path / "bi"), "--include-pii")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "published 1 mart (3 rows)" in proc.stdout and "personal data: included" in proc.stdout
    con = duckdb.connect(str(tmp_path / "bi" / "kith_marts.duckdb"), read_only=True)
    try:
        assert con.execute("select min(email) from dim_things").fetchone()[0] == "x0@example.com"
    finally:
        con.close()
    missing = run_kith({**env, "KITH_WAREHOUSE": str(tmp_path / "none.duckdb")}, "publish")
    assert missing.returncode == 2
    assert [ln for ln in missing.stderr.splitlines() if ln.strip()] == [
        f"kith publish: error: warehouse {tmp_path / 'none.duckdb'} does not exist yet: run `kith build` first"
    ]
