"""The DuckDB profile as dbt-duckdb applies it: settings run on every new cursor of a dbt invocation."""

from pathlib import Path

import jinja2
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments import Environment

PROJECT_DIR = Path(__file__).resolve().parents[1]


def duckdb_credentials(env: dict[str, str]) -> DuckDBCredentials:
    """profiles.yml's duckdb output, rendered with ``env`` as dbt renders env_var()."""
    template = jinja2.Environment().from_string((PROJECT_DIR / "profiles.yml").read_text())
    rendered = yaml.safe_load(template.render(env_var=lambda name, default=None: env.get(name, default)))
    output = dict(rendered["kith"]["outputs"]["duckdb"])
    output.pop("type")
    output["threads"] = int(output["threads"])
    return DuckDBCredentials.from_dict(output)


def test_a_new_cursor_after_a_spill_can_still_be_opened(tmp_path: Path) -> None:
    """A query spills to the temp directory; dbt-duckdb then opens another cursor (each model and
    test gets one) and applies the profile's settings to it. DuckDB refuses `SET temp_directory`
    once the directory is in use, so the profile must set it when the database opens."""
    temp = tmp_path / "spill"
    creds = duckdb_credentials(
        {"KITH_WAREHOUSE": str(tmp_path / "kith.duckdb"), "KITH_TEMP_DIR": str(temp), "KITH_MEMORY_LIMIT": "48MB"}
    )
    con = Environment.initialize_db(creds)
    try:
        first = Environment.initialize_cursor(creds, con.cursor())
        (setting,) = first.execute("select current_setting('temp_directory')").fetchone()
        assert Path(setting) == temp
        first.execute("create table sorted as select md5(i::varchar) as s from range(1000000) r(i) order by s")
        assert any(temp.iterdir()), "the sort did not spill: the test proves nothing"
        second = Environment.initialize_cursor(creds, con.cursor())  # raised before the fix
        assert second.execute("select count(*) from sorted").fetchone() == (1000000,)
        # the per-cursor settings still reach every cursor
        assert second.execute("select current_setting('memory_limit')").fetchone()[0].startswith("45")
        assert second.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
        assert second.execute("select current_setting('preserve_insertion_order')").fetchone() == (False,)
    finally:
        con.close()
