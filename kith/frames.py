"""One Python model for two engines: what a Kith dbt Python model uses of its ``dbt`` and ``session``.

On DuckDB (dbt-duckdb) ``session`` is the DuckDB connection and ``dbt.ref`` returns DuckDB
relations: :func:`relations` hands back each ``dbt.ref(...)`` relation itself and :func:`model_result` the table the
model built, so a model runs exactly as it did before it was made portable (same calls, same
plans). On Spark (the ``session`` submission method of kith/spark.py) ``dbt.ref`` returns Spark
DataFrames: :class:`SparkRelation` gives them the part of DuckDB's relational API the models use
(``filter``, ``project``, ``join`` on a column, ``order``, ``df``, ``to_arrow_table``,
``fetchall``), and :func:`model_result` turns the model's Arrow table into a Spark DataFrame for
dbt-spark to save. Work that runs in DuckDB SQL (Splink's matching) gets a DuckDB view of a Spark
relation through :func:`duckdb_view`: the rows travel to the driver, which suits what the models
pull there anyway (person records, over-cap components); see docs/spark.md for what scales out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa


def is_spark_session(session: Any) -> bool:
    """True for a SparkSession (dbt-spark), false for dbt-duckdb's connection."""
    return type(session).__module__.split(".")[0] == "pyspark"


def _split_expressions(expressions: str) -> list[str]:
    """``"a, b as c, coalesce(x, y) as z"`` -> its top-level comma-separated expressions."""
    parts, depth, current = [], 0, []
    for character in expressions:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


class SparkRelation:
    """A Spark DataFrame with the DuckDB relational methods the Python models call."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def filter(self, condition: str) -> SparkRelation:
        return SparkRelation(self.frame.filter(condition))

    def project(self, expressions: str) -> SparkRelation:
        return SparkRelation(self.frame.selectExpr(*_split_expressions(expressions)))

    def join(self, other: SparkRelation, column: str) -> SparkRelation:
        """Inner join on one column both sides have (DuckDB's ``join(other, "col")``)."""
        return SparkRelation(self.frame.join(other.frame, on=column.strip(), how="inner"))

    def order(self, expressions: str) -> SparkRelation:
        return SparkRelation(self.frame.orderBy(*_split_expressions(expressions)))

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def to_arrow_table(self) -> pa.Table:
        return self.frame.toArrow()

    def df(self) -> Any:
        """A pandas frame as DuckDB's ``df()`` gives it: decimals as floats, dates as datetime64."""
        table = self.to_arrow_table()
        for index, field in enumerate(table.schema):
            if pa.types.is_decimal(field.type):
                table = table.set_column(index, field.name, table.column(index).cast(pa.float64()))
        return table.to_pandas(date_as_object=False)

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self.frame.collect()]


def relations(session: Any) -> Callable[[Any], Any]:
    """What wraps a ``dbt.ref(...)`` (write the call out: dbt finds a Python model's parents by
    reading its ``dbt.ref("name")`` calls): on DuckDB the relation itself, on Spark a
    :class:`SparkRelation` of the DataFrame."""
    if not is_spark_session(session):
        return lambda relation: relation
    return SparkRelation


def model_result(session: Any, result: Any) -> Any:
    """What the model returns, from an Arrow table or a relation of :func:`relations`: on DuckDB an
    Arrow table, on Spark a DataFrame (a relation's own, or one made from the Arrow table)."""
    if isinstance(result, SparkRelation):
        return result.frame
    if not is_spark_session(session):
        return result if isinstance(result, pa.Table) else result.to_arrow_table()
    return session.createDataFrame(result)


def duckdb_view(session: Any, relation: Any, name: str) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A DuckDB connection and something it can select ``relation`` from.

    DuckDB: the model's own connection (``as_duckdb_connection``) and the relation's query in
    parentheses. Spark: a new in-memory DuckDB connection with the relation's rows (collected to
    the driver as Arrow) registered as the temporary view ``name``, which hides any table of that
    name in every catalog: choose one the DuckDB code does not use (the ref's own name).
    """
    if not is_spark_session(session):
        from kith.identity.probabilistic import as_duckdb_connection

        return as_duckdb_connection(session), f"({relation.sql_query()})"
    con = duckdb.connect()
    con.register(name, relation.to_arrow_table())
    return con, name


def _naive_utc(table: pa.Table) -> pa.Table:
    """Instants as UTC wall-clock timestamps (Spark's Arrow export zones them; the models' SQL,
    written for DuckDB's TIMESTAMP columns, expects them without a zone)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            utc = table.column(index).cast(pa.timestamp(field.type.unit, tz="UTC"))
            naive = utc.cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, field.name, naive)
    return table


def sql_tables(session: Any, **refs: Any) -> tuple[Any, dict[str, str]]:
    """A connection that runs the scoring SQL (DuckDB's dialect, kith/scoring/features.py) and, per
    keyword, what that SQL selects the ref from.

    DuckDB: the model's own connection and each relation's query in parentheses (the SQL runs in
    the warehouse, as before). Spark: a new in-memory DuckDB connection with each ref's rows
    collected to the driver as Arrow and registered as a view named after the keyword (instants as
    UTC timestamps): the SQL runs on the driver, where the scoring models' pandas work runs anyway.
    """
    if not is_spark_session(session):
        from kith.identity.probabilistic import as_duckdb_connection

        return as_duckdb_connection(session), {name: f"({ref.sql_query()})" for name, ref in refs.items()}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    names = {}
    for name, ref in refs.items():
        frame = ref.frame if isinstance(ref, SparkRelation) else ref
        con.register(f"kith_{name}", _naive_utc(frame.toArrow()))
        names[name] = f"kith_{name}"
    return con, names


def model_output(session: Any, result: Any) -> Any:
    """What a model returns, from a DuckDB relation, a pandas frame or an Arrow table: on DuckDB
    the result unchanged (dbt-duckdb materialises each); on Spark a DataFrame made from its Arrow
    table (columns of nulls only typed as strings: Parquet has no null type)."""
    if not is_spark_session(session):
        return result
    if isinstance(result, SparkRelation):
        return result.frame
    if isinstance(result, duckdb.DuckDBPyRelation):
        table = result.to_arrow_table()
    elif isinstance(result, pa.Table):
        table = result
    else:
        table = pa.Table.from_pandas(result, preserve_index=False)
    for index, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return session.createDataFrame(table)
