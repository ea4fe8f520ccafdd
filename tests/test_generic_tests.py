"""Proof that every generic test in tests/generic passes on good data and fails on bad data.

A throwaway dbt project (`kith_generic_tests`) is written to a temporary directory with a copy of
tests/generic, seeds and models holding good and bad rows, and one property file declaring every
test case. One `dbt build` runs them all; each case's name ends in `__passes` or `__fails`, and the
status dbt reports for that node must match. Nothing here reads the Kith project's own models.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERIC_TESTS_DIR = REPO_ROOT / "tests" / "generic"
GENERIC_TEST_NAMES = (
    "expression_is_true",
    "unique_combination_of_columns",
    "accepted_range",
    "recency",
    "mutually_exclusive_ranges",
    "equal_rowcount",
)
AS_OF_VAR = "kith_generic_tests__as_of_date"

DBT_PROJECT_YML = f"""\
name: kith_generic_tests
version: "0.1.0"
config-version: 2
profile: kith_generic_tests
model-paths: ["models"]
seed-paths: ["seeds"]
test-paths: ["tests"]
macro-paths: ["macros"]
flags:
  send_anonymous_usage_stats: false
  partial_parse: false
vars:
  {AS_OF_VAR}: null
"""

PROFILES_YML = """\
kith_generic_tests:
  target: test
  outputs:
    test:
      type: duckdb
      path: "{path}"
      schema: main
      threads: 4
"""

SEEDS = {
    # Valid order lines: amounts on both bounds of [0, 100], newest line 2024-03-31.
    "orders_good.csv": """\
        order_id,line_number,customer_id,amount,discount,ordered_at
        o1,1,c1,0,0,2024-03-30 10:00:00
        o1,2,c1,50,5,2024-03-30 10:00:00
        o2,1,c2,100,10,2024-03-31 09:00:00
        """,
    # Each row except c9's breaks something: negative amount, duplicate key with discount > amount,
    # amount above 100. Newest line 2024-01-15, oldest before 2024.
    "orders_bad.csv": """\
        order_id,line_number,customer_id,amount,discount,ordered_at
        o1,1,c1,-1,0,2023-12-31 23:00:00
        o1,1,c1,50,60,2024-01-10 10:00:00
        o3,1,c3,101,0,2024-01-15 10:00:00
        o9,1,c9,20,0,2024-01-12 10:00:00
        """,
    # Histories per customer: each range ends where the next starts; the current one is open.
    "ranges_contiguous.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-01-01,2024-02-01
        c1,2024-02-01,
        c2,2024-01-01,2024-03-01
        c2,2024-03-01,2024-04-01
        """,
    "ranges_gapped.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-01-01,2024-02-01
        c1,2024-02-15,
        """,
    "ranges_overlapping.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-01-01,2024-02-15
        c1,2024-02-01,
        """,
    "ranges_open_not_last.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-01-01,
        c1,2024-02-01,2024-03-01
        """,
    "ranges_inverted.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-02-01,2024-01-01
        """,
    "ranges_zero_length.csv": """\
        customer_id,valid_from,valid_to
        c1,2024-01-01,2024-01-01
        c1,2024-01-01,2024-02-01
        """,
}

MODELS = {
    # Built from no seed, so failing tests on the seeds cannot skip it.
    "three_rows.sql": "select n from (values (1), (2), (3)) as numbers (n)\n",
    "events_recent.sql": "select cast(current_timestamp as timestamp) as loaded_at\n",
    "events_empty.sql": "select cast(current_timestamp as timestamp) as loaded_at where 1 = 0\n",
}

ORDER_COLUMN_TYPES = """\
      column_types:
        order_id: varchar
        line_number: integer
        customer_id: varchar
        amount: decimal(18, 2)
        discount: decimal(18, 2)
        ordered_at: timestamp
"""
RANGE_COLUMN_TYPES = """\
      column_types: {customer_id: varchar, valid_from: date, valid_to: date}
"""

# Every case is named <generic test>__<what>__passes|fails: the suffix is the expected outcome.
SEED_PROPERTIES = f"""\
version: 2

seeds:
  - name: orders_good
    config:
{ORDER_COLUMN_TYPES}
    data_tests:
      - expression_is_true:
          name: expression_is_true__model_level__passes
          arguments: {{expression: "amount >= discount"}}
      - unique_combination_of_columns:
          name: unique_combination_of_columns__compound_key__passes
          arguments: {{combination_of_columns: [order_id, line_number]}}
      - unique_combination_of_columns:
          name: unique_combination_of_columns__quoted_columns__passes
          arguments: {{combination_of_columns: [order_id, line_number], quote_columns: true}}
      - unique_combination_of_columns:
          name: unique_combination_of_columns__too_few_columns__fails
          arguments: {{combination_of_columns: [order_id]}}
      - recency:
          name: recency__reference_var_in_window__passes
          arguments:
            field: ordered_at
            datepart: day
            interval: 2
            reference_timestamp: "var('{AS_OF_VAR}')"
      - recency:
          name: recency__reference_literal_in_window__passes
          arguments: {{field: ordered_at, datepart: hour, interval: 24, reference_timestamp: "2024-04-01"}}
      - recency:
          name: recency__reference_before_window__fails
          arguments: {{field: ordered_at, datepart: hour, interval: 12, reference_timestamp: "2024-04-01"}}
      - recency:
          name: recency__old_data_against_now__fails
          arguments: {{field: ordered_at, datepart: day, interval: 30}}
      - equal_rowcount:
          name: equal_rowcount__same_rows__passes
          arguments: {{compare_model: "ref('three_rows')"}}
      - equal_rowcount:
          name: equal_rowcount__different_rows__fails
          arguments: {{compare_model: "ref('orders_bad')"}}
    columns:
      - name: amount
        data_tests:
          - expression_is_true:
              name: expression_is_true__column_level__passes
              arguments: {{expression: ">= 0"}}
          - accepted_range:
              name: accepted_range__inclusive_bounds__passes
              arguments: {{min_value: 0, max_value: 100}}
          - accepted_range:
              name: accepted_range__exclusive_bounds__fails
              arguments: {{min_value: 0, max_value: 100, inclusive: false}}
          - accepted_range:
              name: accepted_range__min_only__passes
              arguments: {{min_value: 0}}
      - name: ordered_at
        data_tests:
          - accepted_range:
              name: accepted_range__date_literal_bounds__passes
              arguments: {{min_value: "'2024-01-01'", max_value: "'2024-12-31'"}}

  - name: orders_bad
    config:
{ORDER_COLUMN_TYPES}
    data_tests:
      - expression_is_true:
          name: expression_is_true__model_level__fails
          arguments: {{expression: "amount >= discount"}}
      - expression_is_true:
          name: expression_is_true__where_config_excludes_bad_rows__passes
          arguments: {{expression: "amount >= discount and amount between 0 and 100"}}
          config: {{where: "customer_id = 'c9'"}}
      - unique_combination_of_columns:
          name: unique_combination_of_columns__compound_key__fails
          arguments: {{combination_of_columns: [order_id, line_number]}}
      - unique_combination_of_columns:
          name: unique_combination_of_columns__more_columns__passes
          arguments: {{combination_of_columns: [order_id, line_number, amount]}}
      - recency:
          name: recency__reference_var_stale__fails
          arguments:
            field: ordered_at
            datepart: day
            interval: 2
            reference_timestamp: "var('{AS_OF_VAR}')"
    columns:
      - name: amount
        data_tests:
          - expression_is_true:
              name: expression_is_true__column_level__fails
              arguments: {{expression: ">= 0"}}
          - accepted_range:
              name: accepted_range__inclusive_bounds__fails
              arguments: {{min_value: 0, max_value: 100}}
          - accepted_range:
              name: accepted_range__max_only__fails
              arguments: {{max_value: 100}}
          - accepted_range:
              name: accepted_range__where_argument_excludes_bad_rows__passes
              arguments: {{min_value: 0, max_value: 100, where: "customer_id = 'c9'"}}
      - name: ordered_at
        data_tests:
          - accepted_range:
              name: accepted_range__date_literal_bounds__fails
              arguments: {{min_value: "'2024-01-01'", max_value: "'2024-12-31'"}}

  - name: ranges_contiguous
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__contiguous_gaps_allowed__passes
          arguments: &contiguous {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                                   partition_by: customer_id}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__contiguous_gaps_not_allowed__passes
          arguments: {{<<: *contiguous, gaps: not_allowed}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__contiguous_gaps_required__fails
          arguments: {{<<: *contiguous, gaps: required}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__without_partition__fails
          arguments: {{lower_bound_column: valid_from, upper_bound_column: valid_to}}

  - name: ranges_gapped
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__gapped_gaps_allowed__passes
          arguments: &gapped {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                               partition_by: customer_id}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__gapped_gaps_not_allowed__fails
          arguments: {{<<: *gapped, gaps: not_allowed}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__gapped_gaps_required__passes
          arguments: {{<<: *gapped, gaps: required}}

  - name: ranges_overlapping
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__overlapping__fails
          arguments: {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                       partition_by: customer_id}}

  - name: ranges_open_not_last
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__open_end_not_last__fails
          arguments: {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                       partition_by: customer_id}}

  - name: ranges_inverted
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__inverted_bounds__fails
          arguments: {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                       partition_by: customer_id}}

  - name: ranges_zero_length
    config:
{RANGE_COLUMN_TYPES}
    data_tests:
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__zero_length_default__fails
          arguments: &zero {{lower_bound_column: valid_from, upper_bound_column: valid_to,
                             partition_by: customer_id}}
      - mutually_exclusive_ranges:
          name: mutually_exclusive_ranges__zero_length_allowed__passes
          arguments: {{<<: *zero, zero_length_range_allowed: true}}
"""

MODEL_PROPERTIES = """\
version: 2

models:
  - name: three_rows
    description: As many rows as the orders_good seed.
  - name: events_recent
    description: One event loaded now.
    data_tests:
      - recency:
          name: recency__fresh_data_against_now__passes
          arguments: {field: loaded_at, datepart: hour, interval: 1}
      - recency:
          name: recency__fresh_data_null_reference_means_now__passes
          arguments: {field: loaded_at, datepart: hour, interval: 1, reference_timestamp: null}
  - name: events_empty
    description: No events at all.
    data_tests:
      - recency:
          name: recency__empty_model__fails
          arguments: {field: loaded_at, datepart: day, interval: 365}
"""


def write_generic_tests_project(root: Path) -> Path:
    """Write the throwaway dbt project (with a copy of tests/generic) into root and return root."""
    (root / "seeds").mkdir(parents=True)
    (root / "models").mkdir()
    (root / "macros").mkdir()
    shutil.copytree(GENERIC_TESTS_DIR, root / "tests" / "generic")
    (root / "dbt_project.yml").write_text(DBT_PROJECT_YML)
    (root / "profiles.yml").write_text(PROFILES_YML.format(path=root / "generic_tests.duckdb"))
    for name, body in SEEDS.items():
        (root / "seeds" / name).write_text(textwrap.dedent(body))
    (root / "seeds" / "_seeds.yml").write_text(SEED_PROPERTIES)
    for name, body in MODELS.items():
        (root / "models" / name).write_text(body)
    (root / "models" / "_models.yml").write_text(MODEL_PROPERTIES)
    return root


def dbt_args(command: str, project: Path, *extra: str) -> list[str]:
    """Arguments for a dbt invocation that writes nothing outside the temporary project."""
    return [
        command,
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(project / "target"),
        "--log-path", str(project / "logs"),
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory):
    """Run `dbt build` once on the throwaway project; return (dbtRunnerResult, project dir)."""
    from dbt.cli.main import dbtRunner

    project = write_generic_tests_project(tmp_path_factory.mktemp("kith_generic_tests"))
    # The as-of date is given unquoted, as a YAML date: recency must cope with a date object too.
    result = dbtRunner().invoke(dbt_args("build", project, "--vars", f"{{{AS_OF_VAR}: 2024-04-01}}", "--quiet"))
    assert result.exception is None, f"dbt build crashed: {result.exception!r}"
    return result, project


@pytest.fixture(scope="module")
def case_statuses(build) -> dict[str, str]:
    """Status ('pass', 'fail', 'error' ...) of every test node, by test name."""
    result, _ = build
    return {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type == "test"}


def test_seeds_and_models_build(build) -> None:
    result, _ = build
    others = {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type != "test"}
    assert set(others) == {Path(n).stem for n in (*SEEDS, *MODELS)}
    assert set(others.values()) == {"success"}, others
    assert result.success is False  # the __fails cases must make the build fail


def test_every_case_ran_with_expected_status(case_statuses: dict[str, str]) -> None:
    declared = {
        line.split("name:")[1].strip()
        for line in (SEED_PROPERTIES + MODEL_PROPERTIES).splitlines()
        if line.strip().startswith("name:") and "__" in line
    }
    assert set(case_statuses) == declared
    wrong = {
        name: status
        for name, status in case_statuses.items()
        if status != ("pass" if name.endswith("__passes") else "fail")
    }
    assert not wrong, f"cases with an unexpected status: {wrong}"


@pytest.mark.parametrize("generic_test", GENERIC_TEST_NAMES)
def test_generic_test_has_passing_and_failing_cases(generic_test: str, case_statuses: dict[str, str]) -> None:
    outcomes = Counter(status for name, status in case_statuses.items() if name.startswith(f"{generic_test}__"))
    assert outcomes["pass"] >= 1, f"{generic_test} never passes: {outcomes}"
    assert outcomes["fail"] >= 1, f"{generic_test} never fails: {outcomes}"


@pytest.mark.parametrize("generic_test", GENERIC_TEST_NAMES)
def test_generic_test_is_documented(generic_test: str, build) -> None:
    """The properties file in tests/generic documents each test macro and all its arguments."""
    _, project = build
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    macro = manifest["macros"][f"macro.kith_generic_tests.test_{generic_test}"]
    assert macro["description"].strip()
    documented = {argument["name"] for argument in macro["arguments"] if argument["description"]}
    sql = (GENERIC_TESTS_DIR / f"{generic_test}.sql").read_text()
    signature = sql.split(f"test {generic_test}(", 1)[1].split(")", 1)[0]
    declared = {part.split("=")[0].strip() for part in signature.split(",") if part.strip()}
    assert declared == documented
