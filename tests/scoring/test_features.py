"""Point-in-time features (kith/scoring/features.py): values by hand, and rows after the snapshot change nothing."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from kith.scoring import features, synthetic

S = date(2026, 3, 31)

ORDERS = [
    # order_id, customer_id, order_date, channel, paid, margin, cancelled
    ("O1", "c1", "2026-01-01", "online", 100, 40, False),
    ("O2", "c1", "2026-01-01", "store", 50, 20, False),  # same day as O1: one purchase day of 150
    ("O3", "c1", "2026-02-10", "store", 80, None, False),  # unknown cost: not in the margin rate
    ("O4", "c1", "2026-03-31", "online", 20, 10, False),  # on the snapshot day: included
    ("O5", "c1", "2026-02-20", "online", 999, 500, True),  # cancelled: never counts
    ("O6", None, "2026-02-20", "online", 999, 500, False),  # no customer: never counts
    ("O7", "c2", "2026-03-01", "store", 60, 30, False),
    ("O8", "c1", "2026-04-01", "online", 70, 35, False),  # the day after: outcome only
    ("O9", "c2", "2026-04-20", "online", 40, 20, False),  # outcome only
    ("O10", "c3", "2026-04-02", "online", 10, 5, False),  # first purchase after S: no row
    ("O11", "c2", "2026-05-15", "online", 40, 20, False),  # after the outcome window: never
]
LINES = [
    # order_id, returned_amount, first_returned_at
    ("O1", 30, "2026-03-31 23:59:00"),  # received on the snapshot day: counted
    ("O2", 0, None),
    ("O3", 80, "2026-04-01 00:00:00"),  # received the day after: not yet known
    ("O4", 0, None),
    ("O7", 0, None),
]
TOUCHPOINTS = [
    # customer_id, channel, type, session, date
    ("c1", "web", "page_view", "s1", "2026-03-02"),  # 29 days before S: inside (S - 30, S]
    ("c1", "web", "product_view", "s1", "2026-03-02"),
    ("c1", "app", "add_to_cart", "s2", "2026-03-31"),
    ("c1", "web", "page_view", "s0", "2026-03-01"),  # 30 days before: outside
    ("c1", "store", "store_visit", None, "2026-03-20"),  # not digital
    ("c1", "web", "page_view", "s3", "2026-04-01"),  # after S
    ("c2", "web", "product_view", "s4", "2026-03-15"),
]


def _tables(con: duckdb.DuckDBPyConnection) -> None:
    orders = pd.DataFrame(
        ORDERS, columns=["order_id", "customer_id", "order_date", "order_channel", "paid_amount", "margin_amount", "c"]
    )
    orders["is_cancelled"] = orders.pop("c")
    orders["order_date"] = pd.to_datetime(orders["order_date"]).dt.date
    con.register("orders_frame", orders)
    con.execute(
        """
        create table orders as
        select * replace (cast(paid_amount as decimal(18, 2)) as paid_amount,
                          cast(margin_amount as decimal(18, 2)) as margin_amount)
        from orders_frame
        """
    )
    lines = pd.DataFrame(LINES, columns=["order_id", "returned_amount", "first_returned_at"])
    lines["first_returned_at"] = pd.to_datetime(lines["first_returned_at"])
    con.register("lines_frame", lines)
    con.execute("create table lines as select * from lines_frame")
    touchpoints = pd.DataFrame(
        TOUCHPOINTS, columns=["customer_id", "channel", "touchpoint_type", "session_id", "touchpoint_date"]
    )
    touchpoints["touchpoint_date"] = pd.to_datetime(touchpoints["touchpoint_date"]).dt.date
    con.register("touchpoints_frame", touchpoints)
    con.execute("create table touchpoints as select * from touchpoints_frame")


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    _tables(connection)
    return connection


def _features(con: duckdb.DuckDBPyConnection, snapshot: features.Snapshot) -> pd.DataFrame:
    rows = features.customer_features(con, "orders", snapshot, order_lines="lines", touchpoints="touchpoints").df()
    return rows.set_index("customer_id")


def test_features_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    rows = _features(con, features.Snapshot(S, date(2026, 4, 30)))
    assert list(rows.index) == ["c1", "c2"]  # c3 first bought after S
    c1 = rows.loc["c1"]
    assert c1["order_count"] == 4
    assert c1["purchase_day_count"] == 3  # Jan 1 (two orders), Feb 10, Mar 31
    assert (c1["frequency"], c1["recency"], c1["age"], c1["recency_days"]) == (2, 89, 89, 0)
    assert c1["monetary_value"] == pytest.approx((80 + 20) / 2)  # repeat days only: the first day's 150 is left out
    assert c1["average_order_value"] == pytest.approx(250 / 4)
    assert c1["paid_amount"] == pytest.approx(250)
    assert c1["returned_amount"] == pytest.approx(30)  # O3's return arrived after S
    assert c1["net_amount"] == pytest.approx(220)
    assert c1["margin_rate"] == pytest.approx((40 + 20 + 10) / (100 + 50 + 20))
    assert c1["return_rate"] == pytest.approx(30 / 250)
    assert c1["orders_last_90_days"] == 4  # (S - 90, S] starts after 2025-12-31: every order of c1
    assert c1["online_order_share"] == pytest.approx(2 / 4)
    assert (c1["sessions_last_30_days"], c1["product_views_last_30_days"], c1["cart_adds_last_30_days"]) == (2, 1, 1)
    assert (c1["future_purchase_days"], c1["future_paid_amount"]) == (1, pytest.approx(70))
    c2 = rows.loc["c2"]
    assert (c2["frequency"], c2["recency"], c2["age"], c2["recency_days"]) == (0, 0, 30, 30)
    assert pd.isna(c2["monetary_value"])
    assert c2["returned_amount"] == 0 and c2["return_rate"] == 0
    assert (c2["future_purchase_days"], c2["future_paid_amount"]) == (1, pytest.approx(40))  # O11 is after E


def test_orders_last_90_days_window() -> None:
    # (S - 90, S]: 2026-01-01 is 89 days before 2026-03-31, 2025-12-31 is 90 days before.
    con = duckdb.connect()
    con.execute(
        """
        create table orders as select * from (values
            ('A', 'c', date '2025-12-31', 'store', 10.0, 5.0, false),
            ('B', 'c', date '2026-01-01', 'store', 10.0, 5.0, false)
        ) as t(order_id, customer_id, order_date, order_channel, paid_amount, margin_amount, is_cancelled)
        """
    )
    row = features.customer_features(con, "orders", features.Snapshot(S)).df().iloc[0]
    assert row["orders_last_90_days"] == 1
    assert row["sessions_last_30_days"] == 0  # no touchpoints table: 0, not null
    assert pd.isna(row["future_purchase_days"])  # no outcome window


def test_without_an_outcome_window_the_future_is_null(con: duckdb.DuckDBPyConnection) -> None:
    rows = _features(con, features.Snapshot(S))
    assert rows["future_purchase_days"].isna().all()
    assert rows["outcome_end_date"].isna().all()


def test_snapshot_plan() -> None:
    plan = features.snapshot_plan(date(2026, 10, 31), 90)
    assert plan == [
        features.Snapshot(date(2026, 5, 4), date(2026, 8, 2), 2),
        features.Snapshot(date(2026, 8, 2), date(2026, 10, 31), 1),
        features.Snapshot(date(2026, 10, 31), None, 0),
    ]
    with pytest.raises(ValueError, match="horizon_days"):
        features.snapshot_plan(date(2026, 10, 31), 0)
    with pytest.raises(ValueError, match="outcome window"):
        features.customer_features_sql("orders", features.Snapshot(S, S))


# --- point in time on a larger synthetic warehouse -------------------------------------------


def _truncate(con: duckdb.DuckDBPyConnection, day: date) -> None:
    """The world as it was at the end of ``day``: later orders, touchpoints, returns and stock do not exist."""
    d = f"date '{day.isoformat()}'"
    con.execute(f"delete from fct_orders where order_date > {d}")
    con.execute(f"delete from fct_order_lines where order_date > {d}")
    con.execute(f"delete from fct_touchpoints where touchpoint_date > {d}")
    con.execute(
        f"""update fct_order_lines set returned_amount = 0, first_returned_at = null
            where first_returned_at >= {d} + interval 1 day"""
    )
    con.execute(f"delete from int_product_stock_snapshots where snapshot_date > {d}")


@pytest.fixture(scope="module")
def worlds() -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection, date]:
    """The same synthetic data twice: in full, and truncated at the as-of day."""
    as_of = date(2025, 9, 30)
    full, truncated = duckdb.connect(), duckdb.connect()
    for con in (full, truncated):
        synthetic.write_synthetic_marts(con, 3_000, seed=5, days=400, acquisition_days=300)
        # a stock snapshot on the as-of day, and a later one that must be ignored
        con.execute(
            f"""insert into int_product_stock_snapshots
                select sku, category, case when sku like '%1' then 0 else 5 end, date '{as_of.isoformat()}'
                from int_product_stock_snapshots"""
        )
    _truncate(truncated, as_of)
    return full, truncated, as_of


def test_rows_after_the_snapshot_change_no_feature(worlds) -> None:
    full, truncated, as_of = worlds
    assert (
        full.execute("select count(*) from fct_orders").fetchall()
        > truncated.execute("select count(*) from fct_orders").fetchall()
    )
    plan = features.snapshot_plan(as_of, 60)
    for con in (full, truncated):
        con.execute(
            "create or replace table features as "
            + features.snapshots_sql("fct_orders", plan, order_lines="fct_order_lines", touchpoints="fct_touchpoints")
        )
    query = "select * from features order by horizons_before_as_of, customer_id"
    left, right = full.sql(query).df(), truncated.sql(query).df()
    assert len(left) > 1000
    pd.testing.assert_frame_equal(left, right)


@pytest.mark.parametrize(
    "builder",
    [features.customer_items_sql, features.order_categories_sql, features.category_spend_sql],
    ids=["customer_items", "order_categories", "category_spend"],
)
def test_product_inputs_ignore_later_rows(worlds, builder) -> None:
    full, truncated, as_of = worlds
    left = full.sql(builder("fct_order_lines", as_of)).df()
    right = truncated.sql(builder("fct_order_lines", as_of)).df()
    assert len(left) > 100
    pd.testing.assert_frame_equal(left, right)


def test_stock_is_the_latest_snapshot_on_or_before_the_as_of_day(worlds) -> None:
    full, truncated, as_of = worlds
    left = full.sql(features.in_stock_skus_sql("int_product_stock_snapshots", as_of)).df()
    right = truncated.sql(features.in_stock_skus_sql("int_product_stock_snapshots", as_of)).df()
    pd.testing.assert_frame_equal(left, right)
    assert not left["sku"].str.endswith("1").any()  # out of stock on the as-of day
    later = full.sql(features.in_stock_skus_sql("int_product_stock_snapshots", as_of + timedelta(days=400))).df()
    assert later["sku"].str.endswith("1").any()  # the later snapshot differs, so the test can fail
    before_any = full.sql(features.in_stock_skus_sql("int_product_stock_snapshots", date(2000, 1, 1))).df()
    assert before_any.empty


def test_data_end_date() -> None:
    con = duckdb.connect()
    con.execute("create table orders (order_date date)")
    assert features.data_end_date(con, "orders") is None
    con.execute("insert into orders values (date '2026-01-02'), (date '2026-03-04')")
    assert features.data_end_date(con, "orders") == date(2026, 3, 4)
