"""Synthetic order, line, touchpoint and stock tables drawn from the BG/NBD and Gamma-Gamma stories.

For tests that need a known truth (the holdout evaluation must recover it) and for the scoring
benchmark at a million customers, without the full sample-data generator. The tables have the
columns of ``marts.fct_orders``, ``marts.fct_order_lines``, ``marts.fct_touchpoints`` and
``int_product_stock_snapshots`` that ``kith.scoring`` reads.

The story (time in days): customer i makes a first purchase on a day uniform in the acquisition
window; while alive she buys as a Poisson process with rate lambda_i ~ Gamma(r, alpha) and after
each repeat purchase drops out with probability p_i ~ Beta(a, b) (BG/NBD). Each purchase is worth
z ~ Gamma(p, nu_i) with nu_i ~ Gamma(q, gamma) (Gamma-Gamma; mean p gamma / (q - 1)). Purchases
of one customer that fall on one day are one order each but one purchase day for the models; with
the default rates that is rare. Each order has 1 to 3 lines (1.5 on average) of SKUs drawn
mostly (70%) from the customer's favourite category, Zipf-like within it; 10% of orders are
returned in full 3 to 30 days later; cost is 40-60% of the price. Every order comes with a web
session (1 to 4 product views and an add to cart); customers also browse without buying (page
views), one session per order of theirs (at most 20), on random days after their first purchase.
Customer draws are made in fixed-size chunks, each seeded from ``(seed, chunk)``, so output
depends only on the seed, and memory on the chunk size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pyarrow as pa

BGNBD_TRUTH = {"r": 0.5, "alpha": 40.0, "a": 0.7, "b": 3.0}
GAMMA_GAMMA_TRUTH = {"p": 6.0, "q": 4.0, "gamma": 50.0}
CHUNK_CUSTOMERS = 250_000


@dataclass(frozen=True)
class SyntheticData:
    """What ``write_synthetic_marts`` wrote."""

    customers: int
    orders: int
    order_lines: int
    touchpoints: int
    skus: int
    start: date
    end: date


def _draw_orders(
    rng: np.random.Generator,
    first_id: int,
    n: int,
    *,
    days: int,
    acquisition_days: int,
    bgnbd: Mapping[str, float],
    gamma_gamma: Mapping[str, float],
) -> dict[str, np.ndarray]:
    """Orders of ``n`` customers: customer number, day offset and value (one row per purchase)."""
    first = rng.uniform(0, acquisition_days, n)
    rate = rng.gamma(bgnbd["r"], 1 / bgnbd["alpha"], n)
    dropout = rng.beta(bgnbd["a"], bgnbd["b"], n)
    last_repeat = rng.geometric(dropout)  # the repeat purchase after which the customer drops out
    window = days - first
    events = rng.poisson(rate * window)  # repeat purchases in the window if she never dropped out
    kept = np.minimum(events, last_repeat)
    # Given N events in the window, their times are uniform: sort each customer's and keep the first `kept`.
    owner = np.repeat(np.arange(n), events)
    times = first[owner] + rng.uniform(0, 1, owner.size) * window[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    start_of = np.cumsum(events) - events
    position = np.arange(owner.size) - start_of[owner]
    keep = position < kept[owner]
    owner = np.concatenate([np.arange(n), owner[keep]])
    times = np.concatenate([first, times[keep]])
    nu = rng.gamma(gamma_gamma["q"], 1 / gamma_gamma["gamma"], n)
    value = rng.gamma(gamma_gamma["p"], 1 / nu[owner])
    order = np.lexsort((times, owner))
    return {
        "customer": (owner[order] + first_id).astype(np.int64),
        "day": np.floor(times[order]).astype(np.int64),
        "value": np.round(np.maximum(value[order], 0.01), 2),
    }


def write_synthetic_marts(
    con: duckdb.DuckDBPyConnection,
    customers: int,
    *,
    seed: int = 0,
    start: date = date(2025, 1, 1),
    days: int = 730,
    acquisition_days: int = 365,
    skus: int = 2_000,
    categories: int = 12,
    bgnbd: Mapping[str, float] = BGNBD_TRUTH,
    gamma_gamma: Mapping[str, float] = GAMMA_GAMMA_TRUTH,
    schema: str = "main",
    chunk_customers: int = CHUNK_CUSTOMERS,
) -> SyntheticData:
    """Create ``fct_orders``, ``fct_order_lines``, ``fct_touchpoints``, ``int_product_stock_snapshots`` in ``schema``.

    Orders are drawn in numpy (chunks of ``chunk_customers``) and appended as Arrow; lines,
    touchpoints and stock are derived from them in SQL, with hash-based pseudo-random draws so
    results do not depend on DuckDB's thread scheduling. The stock table has one snapshot, on the
    last day, in which every 20th SKU has no stock.
    """
    if customers < 1 or days < 2 or not 0 < acquisition_days <= days:
        raise ValueError("need customers >= 1, days >= 2 and 0 < acquisition_days <= days")
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"drop table if exists {schema}.synthetic_orders")
    con.execute(f"create table {schema}.synthetic_orders (customer bigint, day bigint, value decimal(18, 2))")
    for chunk, first_id in enumerate(range(0, customers, chunk_customers)):
        n = min(chunk_customers, customers - first_id)
        rng = np.random.default_rng([seed, chunk])
        drawn = _draw_orders(
            rng, first_id, n, days=days, acquisition_days=acquisition_days, bgnbd=bgnbd, gamma_gamma=gamma_gamma
        )
        batch = pa.table(drawn)
        con.register("synthetic_batch", batch)
        con.execute(f"insert into {schema}.synthetic_orders select * from synthetic_batch")
        con.unregister("synthetic_batch")
    s = f"date '{start.isoformat()}'"
    per_category = max(skus // categories, 1)
    con.execute(
        f"""
        create or replace table {schema}.fct_orders as
        with numbered as (
            select
                *,
                row_number() over (order by customer, day, value) as order_number
            from {schema}.synthetic_orders
        )
        select
            'SO' || lpad(cast(order_number as varchar), 12, '0') as order_id,
            'cus_' || lpad(cast(customer as varchar), 10, '0') as customer_id,
            case when hash(order_number, 1) % 2 = 0 then 'online' else 'store' end as order_channel,
            cast({s} + cast(day as integer) as date) as order_date,
            cast({s} + cast(day as integer) as timestamp) + interval 12 hour as ordered_at,
            value as paid_amount,
            cast(round(value * (0.4 + (hash(order_number, 2) % 21) / 100.0), 2) as decimal(18, 2)) as cost_amount,
            cast(null as decimal(18, 2)) as margin_amount,
            case when hash(order_number, 3) % 10 = 0 then value else 0 end as returned_amount,
            case
                when hash(order_number, 3) % 10 = 0
                    then cast({s} + cast(day as integer) as timestamp)
                        + to_days(cast(3 + hash(order_number, 4) % 28 as integer))
            end as first_returned_at,
            false as is_cancelled
        from numbered
        """
    )
    con.execute(f"update {schema}.fct_orders set margin_amount = paid_amount - cost_amount")
    con.execute(
        f"""
        create or replace table {schema}.fct_order_lines as
        with lines as (
            select
                orders.*,
                line_number,
                1 + cast(hash(orders.customer_id) % {categories} as integer) as favourite_category,
                hash(orders.order_id, line_number, 5) as draw
            from {schema}.fct_orders as orders,
                range(1 + cast(hash(orders.order_id, 6) % 100 < 39 as integer)
                      + cast(hash(orders.order_id, 7) % 100 < 9 as integer)) as lines(line_number)
        ),
        categorised as (
            select
                *,
                case
                    when draw % 10 < 7 then favourite_category
                    else 1 + cast((draw // 10) % {categories} as integer)
                end as category_number,
                -- Zipf-like rank within the category: floor(per_category ^ u) - 1, u uniform
                cast(floor(pow({per_category}, ((draw // 1000) % 10000) / 10000.0)) as integer) - 1 as sku_rank
            from lines
        )
        select
            order_id || '-' || line_number as order_line_id,
            order_id,
            customer_id,
            'SKU' || lpad(cast((category_number - 1) * {per_category} + sku_rank as varchar), 6, '0') as sku,
            'category_' || lpad(cast(category_number as varchar), 2, '0') as category,
            order_date,
            ordered_at,
            1 as quantity,
            cast(paid_amount / count(*) over (partition by order_id) as decimal(18, 2)) as paid_amount,
            cast(returned_amount / count(*) over (partition by order_id) as decimal(18, 2)) as returned_amount,
            first_returned_at,
            is_cancelled
        from categorised
        """
    )
    con.execute(
        f"""
        create or replace table {schema}.fct_touchpoints as
        with order_sessions as (
            select customer_id, order_date as touchpoint_date, 'web:' || order_id as session_id, kind
            from {schema}.fct_orders, (values ('page_view'), ('add_to_cart')) as kinds(kind)
            union all
            -- 1 to 4 product views before the purchase
            select customer_id, order_date, 'web:' || order_id, 'product_view'
            from {schema}.fct_orders, range(1 + cast(hash(order_id, 9) % 4 as integer)) as views(v)
        ),
        customers as (
            select customer_id, min(order_date) as first_date, count(*) as order_count
            from {schema}.fct_orders
            group by 1
        ),
        browsing as (
            select
                customer_id,
                cast(first_date + cast(hash(customer_id, k, 8) % greatest(
                    date_diff('day', first_date, {s} + {days - 1}), 1
                ) as integer) as date) as touchpoint_date,
                'web:' || customer_id || '-' || k as session_id,
                'page_view' as kind
            from customers, range(cast(least(order_count, 20) as integer)) as sessions(k)
        ),
        unioned as (
            select * from order_sessions
            union all
            select * from browsing
        )
        select
            row_number() over (order by session_id, kind, touchpoint_date) as touchpoint_id,
            customer_id,
            'web' as channel,
            kind as touchpoint_type,
            session_id,
            touchpoint_date,
            cast(touchpoint_date as timestamp) as occurred_at
        from unioned
        """
    )
    end = start + timedelta(days=days - 1)
    con.execute(
        f"""
        create or replace table {schema}.int_product_stock_snapshots as
        select
            'SKU' || lpad(cast(i as varchar), 6, '0') as sku,
            'category_' || lpad(cast(1 + i // {per_category} as varchar), 2, '0') as category,
            case when i % 20 = 0 then 0 else 10 end as quantity_on_hand,
            date '{end.isoformat()}' as snapshot_date
        from range({per_category * categories}) as skus(i)
        """
    )
    con.execute(f"drop table {schema}.synthetic_orders")
    counts = {
        table: con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0]
        for table in ("fct_orders", "fct_order_lines", "fct_touchpoints", "int_product_stock_snapshots")
    }
    return SyntheticData(
        customers=customers,
        orders=counts["fct_orders"],
        order_lines=counts["fct_order_lines"],
        touchpoints=counts["fct_touchpoints"],
        skus=counts["int_product_stock_snapshots"],
        start=start,
        end=end,
    )
