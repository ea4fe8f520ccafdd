"""Point-in-time customer features, aggregated in DuckDB, for every scoring model.

Every scoring model (RFM, BG/NBD and Gamma-Gamma, propensity, the holdout evaluation) reads the
per-customer summary built here, so there is one definition of "frequency", "recency" and
"spend". The summary is SQL run by DuckDB on the order and touchpoint marts: only one row per
customer (and snapshot) ever reaches pandas, never the order lines.

Point in time
-------------
A summary is taken at a *snapshot* day S and uses only orders placed on or before S, returns of
lines whose first return arrived before the end of S, and touchpoints on or before S. An
optional *outcome window* (S, E] counts what happened next (purchase days and spend after S up
to E), for the propensity label and the holdout evaluation; nothing after E is read. Rows after
S cannot change the features (``tests/scoring/test_features.py`` adds such rows and compares).
Known limits: a cancellation is known only by the order's latest status (the shop delivers an
order once, at its latest status), and customers are identified by today's id map.

Definitions (cancelled orders and orders without a customer are left out; times in days)
------------------------------------------------------------------------------------------
- purchase day: a day with at least one order of the customer; several orders on one day are
  one transaction for BG/NBD (as in Fader, Hardie & Lee's CDNOW data), its value their sum.
- ``frequency`` x: purchase days - 1 (repeat transactions).
- ``recency`` t_x: days from the first to the last purchase day (0 when x = 0).
- ``age`` T: days from the first purchase day to S.
- ``recency_days``: days from the last purchase day to S.
- ``monetary_value``: mean value of the repeat purchase days (the first is excluded, as in the
  Gamma-Gamma model); null when x = 0.
- ``paid_amount``: sum of ``paid_amount`` (merchandise after discounts, before returns);
  ``returned_amount``: refunds of the lines whose first return arrived on or before S (a second,
  later return of the same line counts with the first); ``net_amount`` = paid - returned.
- ``margin_rate``: ``margin_amount / paid_amount`` over the orders whose cost is known, clipped
  to [0, 1] (null when no order has a known cost); ``return_rate``: returned / paid, clipped to
  [0, 1] (0 without spend).
- digital activity: web and app ``sessions_last_30_days``, ``product_views_last_30_days`` and
  ``cart_adds_last_30_days`` (touchpoint days in (S - 30, S]).
- outcome: ``future_purchase_days`` and ``future_paid_amount`` in (S, E]; null without a window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

FEATURE_COLUMNS = (
    "customer_id",
    "snapshot_date",
    "outcome_end_date",
    "first_purchase_date",
    "last_purchase_date",
    "order_count",
    "purchase_day_count",
    "frequency",
    "recency",
    "age",
    "recency_days",
    "monetary_value",
    "average_order_value",
    "paid_amount",
    "returned_amount",
    "net_amount",
    "margin_rate",
    "return_rate",
    "orders_last_90_days",
    "online_order_share",
    "sessions_last_30_days",
    "product_views_last_30_days",
    "cart_adds_last_30_days",
    "future_purchase_days",
    "future_paid_amount",
)


@dataclass(frozen=True)
class Snapshot:
    """A snapshot day and its optional outcome window (S, outcome_end]."""

    snapshot_date: date
    outcome_end: date | None = None
    horizons_before_as_of: int = 0


def snapshot_plan(as_of: date, horizon_days: int, *, training_horizons: int = 2) -> list[Snapshot]:
    """The snapshots the scoring models need, oldest first.

    ``as_of`` itself (no outcome: the scores) and, for k = 1 .. ``training_horizons``, the day
    k horizons earlier with the outcome window of one horizon after it. With the default two:
    the propensity model is trained at as_of - 2h (outcome up to as_of - h), evaluated out of time
    at as_of - h (outcome up to as_of), refitted there and applied at as_of.
    """
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    plan = [
        Snapshot(
            as_of - timedelta(days=k * horizon_days),
            as_of - timedelta(days=(k - 1) * horizon_days),
            k,
        )
        for k in range(training_horizons, 0, -1)
    ]
    return [*plan, Snapshot(as_of, None, 0)]


def _date_literal(day: date) -> str:
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {day!r}")
    return f"date '{day.isoformat()}'"


def customer_features_sql(
    orders: str,
    snapshot: Snapshot,
    *,
    order_lines: str | None = None,
    touchpoints: str | None = None,
) -> str:
    """SQL (DuckDB) of the features of every customer with a purchase on or before the snapshot day.

    Args:
        orders: a table name or parenthesised query with the columns of ``marts.fct_orders`` used
            here: ``customer_id, order_id, order_date, order_channel, paid_amount, margin_amount,
            is_cancelled``.
        snapshot: the day S and the optional outcome end E.
        order_lines: like ``marts.fct_order_lines`` (``order_id, returned_amount,
            first_returned_at``): returns are dated per line, by the line's first return. None
            gives no returns (``returned_amount`` 0), for callers that do not use them.
        touchpoints: like ``marts.fct_touchpoints`` (``customer_id, channel, touchpoint_type,
            session_id, touchpoint_date``); None gives 0 for the digital features.

    Returns:
        A query with ``FEATURE_COLUMNS``, one row per customer.
    """
    s = _date_literal(snapshot.snapshot_date)
    if snapshot.outcome_end is not None and snapshot.outcome_end <= snapshot.snapshot_date:
        raise ValueError("the outcome window must end after the snapshot day")
    e = _date_literal(snapshot.outcome_end) if snapshot.outcome_end is not None else s
    outcome_end = e if snapshot.outcome_end is not None else "cast(null as date)"
    if order_lines is None:
        returns = """
order_returns as (

    select
        cast(null as varchar) as order_id,
        cast(null as decimal(18, 2)) as returned_amount
    where false

),"""
    else:
        returns = f"""
order_returns as (

    select
        order_id,
        sum(returned_amount) as returned_amount
    from {order_lines} as source_lines
    where first_returned_at < {s} + interval 1 day
    group by 1

),"""
    if touchpoints is None:
        digital = """
digital as (

    select
        cast(null as varchar) as customer_id,
        0 as sessions_last_30_days,
        0 as product_views_last_30_days,
        0 as cart_adds_last_30_days
    where false

),"""
    else:
        digital = f"""
digital as (

    select
        customer_id,
        count(distinct session_id) as sessions_last_30_days,
        count(*) filter (where touchpoint_type = 'product_view') as product_views_last_30_days,
        count(*) filter (where touchpoint_type = 'add_to_cart') as cart_adds_last_30_days
    from {touchpoints} as touchpoints
    where
        customer_id is not null
        and channel in ('web', 'app')
        and touchpoint_date <= {s}
        and touchpoint_date > {s} - interval 30 day
    group by 1

),"""
    if snapshot.outcome_end is None:
        outcome = """
outcome as (

    select
        cast(null as varchar) as customer_id,
        cast(null as bigint) as future_purchase_days,
        cast(null as double) as future_paid_amount
    where false

),"""
    else:
        outcome = f"""
outcome as (

    select
        customer_id,
        count(distinct order_date) as future_purchase_days,
        cast(sum(paid_amount) as double) as future_paid_amount
    from orders
    where order_date > {s}
    group by 1

),"""
    return f"""
with

orders as (

    select
        customer_id,
        order_id,
        order_date,
        order_channel,
        paid_amount,
        margin_amount
    from {orders} as source_orders
    where
        customer_id is not null
        and not is_cancelled
        and order_date <= {e}

),

history as (

    select * from orders where order_date <= {s}

),
{returns}

purchase_days as (

    select
        customer_id,
        order_date,
        sum(paid_amount) as day_amount
    from history
    group by 1, 2

),

day_summary as (

    select
        customer_id,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        count(*) as purchase_day_count,
        sum(day_amount) - arg_min(day_amount, order_date) as repeat_amount
    from purchase_days
    group by 1

),

order_summary as (

    select
        history.customer_id,
        count(*) as order_count,
        sum(history.paid_amount) as paid_amount,
        coalesce(sum(order_returns.returned_amount), 0) as returned_amount,
        sum(history.margin_amount) filter (where history.margin_amount is not null) as known_margin_amount,
        sum(history.paid_amount) filter (where history.margin_amount is not null) as known_cost_paid_amount,
        count(*) filter (where history.order_date > {s} - interval 90 day) as orders_last_90_days,
        avg(case when history.order_channel = 'online' then 1.0 else 0.0 end) as online_order_share
    from history
    left join order_returns
        on history.order_id = order_returns.order_id
    group by 1

),
{digital}
{outcome}

features as (

    select
        day_summary.customer_id,
        {s} as snapshot_date,
        {outcome_end} as outcome_end_date,
        day_summary.first_purchase_date,
        day_summary.last_purchase_date,
        order_summary.order_count,
        day_summary.purchase_day_count,
        day_summary.purchase_day_count - 1 as frequency,
        date_diff('day', day_summary.first_purchase_date, day_summary.last_purchase_date) as recency,
        date_diff('day', day_summary.first_purchase_date, {s}) as age,
        date_diff('day', day_summary.last_purchase_date, {s}) as recency_days,
        case
            when day_summary.purchase_day_count > 1
                then cast(day_summary.repeat_amount as double) / (day_summary.purchase_day_count - 1)
        end as monetary_value,
        cast(order_summary.paid_amount as double) / order_summary.order_count as average_order_value,
        cast(order_summary.paid_amount as double) as paid_amount,
        cast(order_summary.returned_amount as double) as returned_amount,
        cast(order_summary.paid_amount - order_summary.returned_amount as double) as net_amount,
        case
            when order_summary.known_cost_paid_amount > 0
                then least(greatest(
                    cast(order_summary.known_margin_amount as double) / order_summary.known_cost_paid_amount, 0
                ), 1)
        end as margin_rate,
        case
            when order_summary.paid_amount > 0
                then least(cast(order_summary.returned_amount as double) / order_summary.paid_amount, 1)
            else 0
        end as return_rate,
        order_summary.orders_last_90_days,
        order_summary.online_order_share,
        coalesce(digital.sessions_last_30_days, 0) as sessions_last_30_days,
        coalesce(digital.product_views_last_30_days, 0) as product_views_last_30_days,
        coalesce(digital.cart_adds_last_30_days, 0) as cart_adds_last_30_days,
        case when {outcome_end} is not null then coalesce(outcome.future_purchase_days, 0) end
            as future_purchase_days,
        case when {outcome_end} is not null then coalesce(outcome.future_paid_amount, 0) end
            as future_paid_amount
    from day_summary
    inner join order_summary
        on day_summary.customer_id = order_summary.customer_id
    left join digital
        on day_summary.customer_id = digital.customer_id
    left join outcome
        on day_summary.customer_id = outcome.customer_id

)

select
    customer_id,
    snapshot_date,
    outcome_end_date,
    first_purchase_date,
    last_purchase_date,
    cast(order_count as integer) as order_count,
    cast(purchase_day_count as integer) as purchase_day_count,
    cast(frequency as integer) as frequency,
    cast(recency as integer) as recency,
    cast(age as integer) as age,
    cast(recency_days as integer) as recency_days,
    monetary_value,
    average_order_value,
    paid_amount,
    returned_amount,
    net_amount,
    margin_rate,
    cast(return_rate as double) as return_rate,
    cast(orders_last_90_days as integer) as orders_last_90_days,
    cast(online_order_share as double) as online_order_share,
    cast(sessions_last_30_days as integer) as sessions_last_30_days,
    cast(product_views_last_30_days as integer) as product_views_last_30_days,
    cast(cart_adds_last_30_days as integer) as cart_adds_last_30_days,
    cast(future_purchase_days as integer) as future_purchase_days,
    future_paid_amount
from features
"""


def snapshots_sql(
    orders: str,
    snapshots: Sequence[Snapshot],
    *,
    order_lines: str | None = None,
    touchpoints: str | None = None,
) -> str:
    """The features of several snapshots in one query (``union all``), with ``horizons_before_as_of``."""
    if not snapshots:
        raise ValueError("give at least one snapshot")
    parts = [
        f"select *, {int(snap.horizons_before_as_of)} as horizons_before_as_of from "
        f"({customer_features_sql(orders, snap, order_lines=order_lines, touchpoints=touchpoints)})"
        for snap in snapshots
    ]
    return "\nunion all\n".join(parts)


def customer_features(
    con: duckdb.DuckDBPyConnection,
    orders: str,
    snapshot: Snapshot,
    *,
    order_lines: str | None = None,
    touchpoints: str | None = None,
) -> duckdb.DuckDBPyRelation:
    """The features of one snapshot as a DuckDB relation (``.df()`` for pandas), sorted by customer."""
    query = customer_features_sql(orders, snapshot, order_lines=order_lines, touchpoints=touchpoints)
    return con.sql(f"select * from ({query}) order by customer_id")


def data_end_date(con: duckdb.DuckDBPyConnection, orders: str) -> date | None:
    """The day of the latest order (cancelled or not) in ``orders``; None when there is none."""
    return con.execute(f"select max(order_date) from {orders} as source_orders").fetchall()[0][0]


# --------------------------------------------------------------------------------------------
# products and categories (recommendations, affinity, market baskets)


def _kept_lines(order_lines: str, as_of: date) -> str:
    return f"""
    select *
    from {order_lines} as source_lines
    where
        customer_id is not null
        and not is_cancelled
        and order_date <= {_date_literal(as_of)}
"""


def customer_items_sql(order_lines: str, as_of: date) -> str:
    """Distinct (customer_id, sku) bought on or before ``as_of`` (lines like ``marts.fct_order_lines``)."""
    return f"""
select distinct customer_id, sku
from ({_kept_lines(order_lines, as_of)})
where sku is not null
order by customer_id, sku
"""


def order_categories_sql(order_lines: str, as_of: date) -> str:
    """Distinct (order_id, category) of orders placed on or before ``as_of``: the market baskets."""
    return f"""
select distinct order_id, category
from ({_kept_lines(order_lines, as_of)})
where category is not null
order by order_id, category
"""


def category_spend_sql(order_lines: str, as_of: date) -> str:
    """Spend per (customer_id, category) on or before ``as_of``: paid minus refunds received by then."""
    s = _date_literal(as_of)
    return f"""
select
    customer_id,
    category,
    cast(sum(
        paid_amount - case when first_returned_at < {s} + interval 1 day then returned_amount else 0 end
    ) as double) as spend
from ({_kept_lines(order_lines, as_of)})
where category is not null
group by 1, 2
order by 1, 2
"""


def in_stock_skus_sql(stock: str, as_of: date) -> str:
    """SKUs with stock on hand in the latest inventory snapshot on or before ``as_of``.

    ``stock`` has one row per (sku, snapshot_date) with ``quantity_on_hand`` summed over locations
    (``int_product_stock_snapshots``). A SKU missing from that snapshot has no stock; with no
    snapshot on or before ``as_of`` nothing is in stock.
    """
    s = _date_literal(as_of)
    return f"""
with

latest as (

    select max(snapshot_date) as snapshot_date
    from {stock} as source_stock
    where snapshot_date <= {s}

)

select source_stock.sku
from {stock} as source_stock
inner join latest
    on source_stock.snapshot_date = latest.snapshot_date
where source_stock.quantity_on_hand > 0
order by 1
"""
