"""Helpers for the staging proofs: a throwaway warehouse with empty raw tables built from the
sources YAML (the raw layer as the contract declares it), and dbt run in-process against it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult

from kith.dbt import release_dbt_duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2]
SOURCES_GLOB = "models/staging/*/_*__sources.yml"


def declared_raw_tables(project_dir: Path = PROJECT_DIR) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, data_type)] for every source table declared in the project."""
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for path in sorted(project_dir.glob(SOURCES_GLOB)):
        document = yaml.safe_load(path.read_text())
        for source in document.get("sources", []):
            schema = source.get("schema", source["name"])
            for table in source.get("tables", []):
                identifier = table.get("identifier", table["name"])
                tables[(schema, identifier)] = [
                    (column["name"], column["data_type"]) for column in table.get("columns", [])
                ]
    return tables


def create_empty_raw(warehouse: Path, project_dir: Path = PROJECT_DIR) -> None:
    """Create every raw schema and table of the sources YAML, empty, with the declared types."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as connection:
        for (schema, table), columns in declared_raw_tables(project_dir).items():
            column_list = ", ".join(f'"{name}" {data_type}' for name, data_type in columns)
            connection.execute(f'create schema if not exists "{schema}"')
            connection.execute(f'create or replace table "{schema}"."{table}" ({column_list})')


@dataclass
class DbtProject:
    """A throwaway warehouse plus target/log folders, and dbt invoked against them."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "w.duckdb"

    def execute(self, sql: str) -> None:
        """Run a statement on the warehouse (e.g. an `alter table` that makes a raw table drift)."""
        with duckdb.connect(str(self.warehouse)) as connection:
            connection.execute(sql)

    def insert(self, relation: str, rows: list[dict[str, object]]) -> None:
        """Insert rows (dicts of column -> value; missing columns stay null) into a raw table."""
        with duckdb.connect(str(self.warehouse)) as connection:
            for row in rows:
                names = ", ".join(f'"{name}"' for name in row)
                placeholders = ", ".join("?" for _ in row)
                connection.execute(f"insert into {relation} ({names}) values ({placeholders})", list(row.values()))

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def dbt(self, *args: str) -> dbtRunnerResult:
        try:
            return dbtRunner().invoke(
                [
                    *args,
                    "--project-dir",
                    str(PROJECT_DIR),
                    "--profiles-dir",
                    str(PROJECT_DIR),
                    "--target-path",
                    str(self.root / "target"),
                    "--log-path",
                    str(self.root / "logs"),
                ]
            )
        finally:
            release_dbt_duckdb()

    @staticmethod
    def errors(result: dbtRunnerResult) -> str:
        """All error text of a dbt invocation: node failures and an exception that stopped the run."""
        messages = [str(result.exception)] if result.exception else []
        for node_result in getattr(result.result, "results", None) or []:
            if node_result.message and str(node_result.status) in {"error", "fail"}:
                messages.append(node_result.message)
        return "\n".join(messages)


@pytest.fixture
def dbt_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DbtProject]:
    """An empty raw layer in a throwaway warehouse; dbt's env points at it."""
    project = DbtProject(tmp_path)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("KITH_WAREHOUSE", str(project.warehouse))
    monkeypatch.setenv("KITH_TEMP_DIR", str(tmp_path / "tmp"))
    monkeypatch.setenv("KITH_THREADS", os.environ.get("KITH_THREADS", "2"))
    # partial builds run only the tests whose parents are all built (as `kith build` does)
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "buildable")
    create_empty_raw(project.warehouse)
    yield project
