"""Compare a table built on Spark with the same table built on DuckDB, in one DuckDB connection.

Two comparisons, both returning a list of problems (empty when the tables agree):

- :func:`compare_as_multisets`: same rows, duplicates counted, with instants as UTC text and
  numbers rounded to 6 decimal places (every table the lane builds).
- :func:`compare_by_key`: rows matched on key columns; keys and every non-numeric column (segments,
  reasons, ids, dates) must be equal, and numbers equal within a relative tolerance
  (``|a - b| <= tolerance * max(1, |a|, |b|)``, both null counts as equal). Used for the main
  marts, whose scores come from numerical fits (Python models) where the engines may differ in
  floating-point noise.
"""

from __future__ import annotations

import duckdb

NUMERIC_PREFIXES = ("DECIMAL", "DOUBLE", "FLOAT", "REAL")
INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {
        name: str(dtype).upper() for name, dtype, *_ in con.execute(f"describe select * from {relation}").fetchall()
    }


def _as_text(column: str, dtype: str, *, round_numbers: bool) -> str:
    """``column`` (a quoted, maybe qualified, column) as text both engines' files give alike."""
    if dtype == "TIMESTAMP WITH TIME ZONE":
        return f"cast({column} at time zone 'UTC' as varchar)"
    if dtype.startswith(NUMERIC_PREFIXES) and round_numbers:
        return f"cast(round(cast({column} as double), 6) as varchar)"
    if dtype in INTEGER_TYPES:
        return f"cast(cast({column} as bigint) as varchar)"
    return f"cast({column} as varchar)"


def comparable_select(con: duckdb.DuckDBPyConnection, relation: str, names: list[str]) -> str:
    """A select of ``relation`` with values both engines write alike: instants as UTC wall-clock
    timestamps, numbers as doubles rounded to 6 places, the rest as text."""
    types = column_types(con, relation)
    expressions = [_as_text(f'"{name}"', types[name], round_numbers=True) for name in names]
    return "select " + ", ".join(expressions) + f" from {relation}"


def compare_as_multisets(
    con: duckdb.DuckDBPyConnection, label: str, duck: str, spark: str, names: list[str]
) -> list[str]:
    duck_select = comparable_select(con, duck, names)
    spark_select = comparable_select(con, spark, names)
    only_duck = con.execute(f"select count(*) from ({duck_select} except all {spark_select})").fetchone()[0]
    only_spark = con.execute(f"select count(*) from ({spark_select} except all {duck_select})").fetchone()[0]
    if only_duck or only_spark:
        rows = con.execute(f"select count(*) from {duck}").fetchone()[0]
        return [f"{label}: {only_duck} of {rows} DuckDB rows missing on Spark, {only_spark} Spark rows extra"]
    return []


def compare_by_key(
    con: duckdb.DuckDBPyConnection,
    label: str,
    duck: str,
    spark: str,
    keys: list[str],
    names: list[str],
    tolerance: float = 1e-6,
) -> list[str]:
    """Rows matched on ``keys``: the same keys on both sides (each once), the same non-numeric
    values, numbers within ``tolerance`` (relative, at least absolute)."""
    types, spark_types = column_types(con, duck), column_types(con, spark)
    problems = []
    for side, relation in (("DuckDB", duck), ("Spark", spark)):
        key_list = ", ".join(f'"{k}"' for k in keys)
        duplicated = con.execute(
            f"select count(*) from (select {key_list} from {relation} group by all having count(*) > 1)"
        ).fetchone()[0]
        if duplicated:
            problems.append(f"{label}: {duplicated} keys ({', '.join(keys)}) appear more than once on {side}")
    if problems:
        return problems
    pairs = [
        (
            _as_text(f'd."{k}"', types[k], round_numbers=False),
            _as_text(f's."{k}"', spark_types[k], round_numbers=False),
        )
        for k in keys
    ]
    join = " and ".join(f"{left} = {right}" for left, right in pairs)
    first_key = f'"{keys[0]}"'
    missing = con.execute(
        f"select count(*) from {duck} as d left join {spark} as s on {join} where s.{first_key} is null"
    ).fetchone()[0]
    extra = con.execute(
        f"select count(*) from {spark} as s left join {duck} as d on {join} where d.{first_key} is null"
    ).fetchone()[0]
    if missing or extra:
        problems.append(f"{label}: {missing} keys only on DuckDB, {extra} keys only on Spark")
    for name in names:
        if name in keys:
            continue
        dtype = types[name]
        d, s = f'd."{name}"', f's."{name}"'
        if dtype.startswith(NUMERIC_PREFIXES):
            a, b = f"cast({d} as double)", f"cast({s} as double)"
            differs = (
                f"({a} is null) <> ({b} is null) or abs({a} - {b}) > {tolerance} * greatest(1, abs({a}), abs({b}))"
            )
        else:
            differs = (
                f"{_as_text(d, dtype, round_numbers=False)}"
                f" is distinct from {_as_text(s, spark_types[name], round_numbers=False)}"
            )
        count = con.execute(
            f"select count(*) from {duck} as d inner join {spark} as s on {join} where {differs}"
        ).fetchone()[0]
        if count:
            problems.append(
                f"{label}.{name}: {count} rows differ"
                + (f" beyond {tolerance}" if dtype.startswith(NUMERIC_PREFIXES) else "")
            )
    return problems
