"""Where Kith reads and writes: every path can be overridden by an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]

# The sample data's default period: one year ending on a fixed day, so generated data never depends
# on today's date (the generator's defaults and the CLI's).
DEFAULT_START_DATE = date(2025, 11, 1)
DEFAULT_END_DATE = date(2026, 10, 31)


class UserError(Exception):
    """A mistake the user can fix; the CLI prints it as one line, without a traceback."""


def _path(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else (PROJECT_DIR / default).resolve()


@dataclass(frozen=True)
class Paths:
    landing: Path
    ground_truth: Path
    warehouse: Path
    reports: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(
            landing=_path("KITH_LANDING", "data/landing"),
            ground_truth=_path("KITH_GROUND_TRUTH", "data/ground_truth"),
            warehouse=_path("KITH_WAREHOUSE", "data/warehouse/kith.duckdb"),
            reports=_path("KITH_REPORTS", "reports"),
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt: absolute paths so the profile works from any working directory."""
        return {
            "KITH_WAREHOUSE": str(self.warehouse),
            "KITH_TEMP_DIR": os.environ.get("KITH_TEMP_DIR", str(self.warehouse.parent / "tmp")),
        }
