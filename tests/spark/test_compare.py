"""The Spark lane's comparer (tests/spark/compare.py) finds what differs: a test of the test, run
in `make test` (no Spark needed), on small tables with one deliberate difference each."""

from __future__ import annotations

import duckdb
import pytest

from tests.spark.compare import compare_as_multisets, compare_by_key

COLUMNS = ["customer_id", "rfm_segment", "probability_alive", "paid_amount", "scored_at"]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        """
        create table duck as
        select * from (values
            ('c1', 'champions', 0.912345678, 120.50::decimal(18, 2), timestamptz '2026-01-01 10:00:00+00'),
            ('c2', 'at_risk', 0.25, 80.00::decimal(18, 2), timestamptz '2026-01-01 10:00:00+00'),
            ('c3', 'lost', null, 0.00::decimal(18, 2), timestamptz '2026-01-01 10:00:00+00')
        ) as t (customer_id, rfm_segment, probability_alive, paid_amount, scored_at)
        """
    )
    # Spark's Parquet files: the same instants without a zone
    con.execute(
        "create table spark as"
        " select * replace (cast(scored_at at time zone 'UTC' as timestamp) as scored_at) from duck"
    )
    return con


def by_key(con: duckdb.DuckDBPyConnection) -> list[str]:
    return compare_by_key(con, "scores", "duck", "spark", ["customer_id"], COLUMNS, tolerance=1e-6)


def test_identical_tables_agree(con: duckdb.DuckDBPyConnection) -> None:
    assert by_key(con) == []
    assert compare_as_multisets(con, "scores", "duck", "spark", COLUMNS) == []


def test_floating_point_noise_within_the_tolerance_is_accepted(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set probability_alive = probability_alive + 1e-9 where customer_id = 'c1'")
    assert by_key(con) == []


def test_a_number_beyond_the_tolerance_is_reported(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set probability_alive = probability_alive + 1e-4 where customer_id = 'c1'")
    assert by_key(con) == ["scores.probability_alive: 1 rows differ beyond 1e-06"]
    assert compare_as_multisets(con, "scores", "duck", "spark", COLUMNS) == [
        "scores: 1 of 3 DuckDB rows missing on Spark, 1 Spark rows extra"
    ]


def test_a_null_on_one_side_only_is_reported(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set probability_alive = 0.0 where customer_id = 'c3'")
    assert by_key(con) == ["scores.probability_alive: 1 rows differ beyond 1e-06"]


def test_a_changed_segment_is_reported_exactly(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set rfm_segment = 'loyal' where customer_id = 'c2'")
    assert by_key(con) == ["scores.rfm_segment: 1 rows differ"]


def test_a_shifted_instant_is_reported(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set scored_at = scored_at + interval 1 microsecond where customer_id = 'c1'")
    assert by_key(con) == ["scores.scored_at: 1 rows differ"]


def test_missing_extra_and_duplicated_keys_are_reported(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update spark set customer_id = 'c9' where customer_id = 'c3'")
    assert by_key(con) == ["scores: 1 keys only on DuckDB, 1 keys only on Spark"]
    con.execute("insert into spark select * from spark where customer_id = 'c1'")
    assert by_key(con) == ["scores: 1 keys (customer_id) appear more than once on Spark"]
