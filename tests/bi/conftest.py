"""Publications of the shared built sample, and DuckDB 1.4 (what BI tools bundle) beside the venv."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kith.config import PROJECT_DIR, Paths
from kith.publish import Publication, publish_marts

HERE = Path(__file__).resolve().parent
DUCKDB_COMPAT_DIR = PROJECT_DIR / ".venv" / "duckdb-1.4"  # `make duckdb-compat`; .venv/ is ignored by git
DUCKDB_COMPAT_REQUIREMENTS = HERE / "requirements-duckdb14.txt"


@dataclass(frozen=True)
class Published:
    publication: Publication
    paths: Paths
    manifest_path: Path  # the dbt manifest the marts were read from
    manifest: dict[str, Any]


def sample_paths(sample) -> Paths:
    return Paths(sample.landing, sample.truth, sample.warehouse, reports=sample.target.parent / "reports")


@pytest.fixture(scope="session")
def published(built_sample, tmp_path_factory: pytest.TempPathFactory) -> Published:
    """The built sample's public marts, published with personal data hashed (the default)."""
    paths = sample_paths(built_sample)
    manifest_path = built_sample.target / "manifest.json"
    publication = publish_marts(
        paths,
        manifest_path=manifest_path,
        publish_dir=tmp_path_factory.mktemp("published"),
        include_pii=False,
    )
    return Published(publication, paths, manifest_path, json.loads(manifest_path.read_text()))


@pytest.fixture(scope="session")
def duckdb14() -> Path:
    """A folder holding DuckDB 1.4, SQLAlchemy and duckdb-engine (installed from PyPI, hash-checked, when
    `make duckdb-compat` has not)."""
    marker = DUCKDB_COMPAT_DIR / ".installed"
    if not marker.exists():
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--require-hashes",
                "--no-warn-conflicts",
                "--upgrade",
                "--target",
                str(DUCKDB_COMPAT_DIR),
                "-r",
                str(DUCKDB_COMPAT_REQUIREMENTS),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"could not install DuckDB 1.4 (make duckdb-compat):\n{proc.stderr[-3000:]}"
        marker.touch()
    return DUCKDB_COMPAT_DIR


def run_with_duckdb14(duckdb14: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python that sees DuckDB 1.4 and not the venv's packages (``-S``: no site)."""
    return subprocess.run(
        [sys.executable, "-S", "-c", code, *args],
        env={"PYTHONPATH": str(duckdb14), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
