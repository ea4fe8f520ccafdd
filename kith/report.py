"""The report for people: one static HTML file with the state of the customer data.

``write_report(warehouse, out)`` reads the built warehouse (read-only) and dbt's last run results,
and writes a single self-contained HTML file: inline CSS and inline SVG plots drawn by matplotlib,
no script, no font, image or style sheet from anywhere else, so it opens offline in any browser and
can be mailed as it is. Sections:

- overview: the headline metrics (``marts.dim_metrics_by_segment``) and revenue by month
  (``marts.fct_metrics_monthly``);
- segments: customers per RFM segment (``marts.dim_customer_scores``);
- lifetime value: the distribution of the 12-month CLV, and its average by segment and channel;
- channels: orders and touchpoints by channel, online-to-offline journeys (``marts.dim_customer_traits``);
- identity resolution: customers, identifiers per customer and by type, merges and splits,
  identifiers excluded from linking and why (``intermediate.int_identity_nodes``);
- data quality: dbt's test results (``run_results.json`` of the last dbt run);
- rejected rows: rows quarantined at ingestion per source system and reason (``raw_<system>.rejected_rows``).

A section whose tables are not built says what to build instead of failing. Every key figure is a
``<dd data-figure="<key>" data-value="<number>">``, every plot an ``<svg id="plot-...">`` with a
title (its alt text), so tests and scripts can read them back.
"""

from __future__ import annotations

import functools
import html
import io
import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

REPORT_FILE = "kith_report.html"

RFM_SEGMENTS = ("champions", "loyal", "potential_loyalists", "new", "at_risk", "cannot_lose", "hibernating", "lost")
CUSTOMER_CHANNELS = ("online", "store", "omnichannel")
# identifiers of a purchase rather than of a person: left out of "identifiers per customer"
TRANSACTION_IDENTIFIERS = ("order_id", "pos_transaction_id")
TEST_STATUSES = ("pass", "warn", "fail", "error", "skipped")

# Tableau 10: distinct hues that stay apart for colour-blind readers
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
STATUS_COLOURS = {"pass": "#59a14f", "warn": "#edc948", "fail": "#e15759", "error": "#8c2f39", "skipped": "#bab0ac"}


# -- what a report holds ------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFigure:
    """A number people read at a glance; ``key`` names it in the HTML (``data-figure``)."""

    key: str
    label: str
    value: float | int | None
    kind: str = "count"  # count, money, rate, text

    def formatted(self) -> str:
        return format_value(self.value, self.kind)


@dataclass(frozen=True)
class Plot:
    """An inline SVG plot: ``plot_id`` is the element id, ``alt`` its title (alternative text)."""

    plot_id: str
    caption: str
    alt: str
    svg: str


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kinds: tuple[str, ...] = ()  # per column: count, money, rate, text (default text)
    figure_keys: tuple[str | None, ...] = ()  # per row: a data-figure key for the row's first number


@dataclass
class Section:
    section_id: str
    title: str
    intro: str = ""
    figures: list[KeyFigure] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: str | None = None  # set instead of content when the data is not there


@dataclass
class Report:
    warehouse: Path
    generated_at: datetime
    sections: list[Section]

    @property
    def plots(self) -> list[Plot]:
        return [plot for section in self.sections for plot in section.plots]

    @property
    def missing(self) -> list[Section]:
        return [section for section in self.sections if section.missing]

    def html(self) -> str:
        return render_html(self)


# -- entry point ----------------------------------------------------------------------------------
def write_report(warehouse: Path, out: Path, run_results: Path | None = None) -> Report:
    """Read the warehouse (read-only) and ``run_results`` (dbt's, if any), write the HTML to ``out``."""
    from pipelines.ingest import open_warehouse

    con = open_warehouse(warehouse, read_only=True)
    try:
        report = build_report(con, warehouse, run_results)
    finally:
        con.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(report.html(), encoding="utf-8")
    tmp.replace(out)
    return report


def build_report(con: duckdb.DuckDBPyConnection, warehouse: Path, run_results: Path | None) -> Report:
    relations = _relations(con)
    builders: list[tuple[str, str, tuple[str, ...], Callable[[duckdb.DuckDBPyConnection], Section]]] = [
        ("overview", "Overview", ("marts.dim_metrics_by_segment", "marts.fct_metrics_monthly"), _overview),
        ("segments", "Segment sizes", ("marts.dim_customer_scores",), _segments),
        (
            "lifetime-value",
            "Lifetime value",
            ("marts.dim_customer_scores", "marts.dim_metrics_by_segment"),
            _lifetime_value,
        ),
        (
            "channels",
            "Channel mix and online-to-offline journeys",
            ("marts.fct_orders", "marts.fct_touchpoints", "marts.dim_customer_traits"),
            _channels,
        ),
        (
            "identity",
            "Identity resolution",
            ("marts.dim_customer_identifiers", "marts.fct_customer_id_changes", "intermediate.int_identity_nodes"),
            _identity,
        ),
    ]
    sections = []
    for section_id, title, needed, builder in builders:
        absent = [name for name in needed if name not in relations]
        if absent:
            sections.append(_missing_section(section_id, title, absent))
            continue
        section = builder(con)
        section.section_id, section.title = section_id, title
        sections.append(section)
    sections.append(_data_quality(run_results))
    sections.append(_rejected_rows(con, relations))
    return Report(warehouse=warehouse, generated_at=datetime.now(UTC), sections=sections)


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _missing_section(section_id: str, title: str, absent: Sequence[str]) -> Section:
    models = " ".join(f"+{name.split('.', 1)[1]}" for name in absent)
    return Section(
        section_id,
        title,
        missing=f"Not built yet: {', '.join(absent)}. Build it with `kith build --select {models}` "
        "(or `kith build` for everything), then run `kith report` again.",
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return con.execute(sql, list(params)).fetchall()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    row = con.execute(sql, list(params)).fetchone()
    assert row is not None, sql
    return row


# -- sections -------------------------------------------------------------------------------------
def _overview(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("overview", "Overview")
    total = con.execute(
        """
        select customer_count, known_customer_count, buyer_count, active_customer_count, order_count,
            revenue_amount, average_order_value, repeat_purchase_rate, return_rate,
            average_lifetime_value_12m, as_of_date
        from marts.dim_metrics_by_segment
        where rfm_segment = 'all' and customer_channel = 'all'
        """
    ).fetchone()
    if total is None:
        section.missing = "marts.dim_metrics_by_segment is empty: are there customers? Run `kith build`."
        return section
    (customers, known, buyers, active, orders, revenue, aov, repeat_rate, return_rate, clv, as_of) = total
    section.intro = (
        f"As of {as_of:%d %B %Y}. Orders are the orders that count (not cancelled) of identified customers; "
        "revenue is after returns. Definitions: the metrics marts' documentation (`kith docs`)."
    )
    section.figures = [
        KeyFigure("customers", "Customers", customers),
        KeyFigure("known_customers", "Known (addressable) customers", known),
        KeyFigure("buyers", "Customers who bought", buyers),
        KeyFigure("active_customers", "Active customers (bought recently)", active),
        KeyFigure("orders", "Orders", orders),
        KeyFigure("revenue", "Revenue", revenue, "money"),
        KeyFigure("average_order_value", "Average order value", aov, "money"),
        KeyFigure("repeat_purchase_rate", "Repeat-purchase rate", repeat_rate, "rate"),
        KeyFigure("return_rate", "Return rate (by value)", return_rate, "rate"),
        KeyFigure("average_clv_12m", "Average 12-month CLV", clv, "money"),
    ]
    monthly = _rows(
        con,
        """
        select month_start_date, order_channel, order_count, revenue_amount, average_order_value,
            active_customer_count, repeat_purchase_rate, return_rate
        from marts.fct_metrics_monthly
        where rfm_segment = 'all'
        order by month_start_date, order_channel
        """,
    )
    months = sorted({row[0] for row in monthly})
    revenue_by = {(row[0], row[1]): float(row[3]) for row in monthly}
    series = {channel: [revenue_by.get((m, channel), 0.0) for m in months] for channel in ("online", "store")}
    section.plots.append(
        _plot_revenue_by_month(
            [m.strftime("%b %Y") for m in months], series, [revenue_by.get((m, "all"), 0.0) for m in months]
        )
    )
    section.tables.append(
        Table(
            "Monthly metrics, both channels (last 12 months)",
            (
                "month",
                "orders",
                "revenue",
                "average order value",
                "active customers",
                "repeat-purchase rate",
                "return rate",
            ),
            tuple((row[0].strftime("%Y-%m"), *row[2:]) for row in monthly if row[1] == "all")[-12:],
            ("text", "count", "money", "money", "count", "rate", "rate"),
        )
    )
    return section


def _segments(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("segments", "Segment sizes")
    rows = _rows(
        con,
        """
        select rfm_segment, count(*) as customers, avg(net_amount) as spend,
            avg(lifetime_value_12m) as clv, avg(churn_propensity) as churn
        from marts.dim_customer_scores
        group by 1
        """,
    )
    by_segment = {row[0]: row for row in rows}
    ordered = [s for s in RFM_SEGMENTS if s in by_segment] + sorted(set(by_segment) - set(RFM_SEGMENTS))
    total = sum(row[1] for row in rows)
    section.intro = (
        "Customers with a purchase, by RFM segment (recency x frequency grid of `kith/scoring/rfm.py`), "
        "as of the scores' as-of date."
    )
    section.figures = [KeyFigure("scored_customers", "Customers with a segment", total)]
    section.plots.append(
        _bar_plot(
            "plot-segment-sizes",
            "Customers per RFM segment",
            _label_list(ordered),
            [by_segment[s][1] for s in ordered],
            xlabel="customers",
            alt="Horizontal bar chart of the number of customers in each RFM segment: "
            + ", ".join(f"{_label(s)} {by_segment[s][1]}" for s in ordered)
            + ".",
        )
    )
    section.tables.append(
        Table(
            "Segments",
            ("segment", "customers", "share", "average net spend", "average 12-month CLV", "average churn propensity"),
            tuple(
                (
                    _label(s),
                    by_segment[s][1],
                    by_segment[s][1] / total if total else None,
                    by_segment[s][2],
                    by_segment[s][3],
                    by_segment[s][4],
                )
                for s in ordered
            ),
            ("text", "count", "rate", "money", "money", "rate"),
            tuple(f"segment_customers:{s}" for s in ordered),
        )
    )
    return section


def _lifetime_value(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("lifetime-value", "Lifetime value")
    values = [
        float(v)
        for (v,) in _rows(
            con,
            "select lifetime_value_12m from marts.dim_customer_scores where lifetime_value_12m is not null order by 1",
        )
    ]
    count, mean, median, p90, missing = _one(
        con,
        """
        select count(lifetime_value_12m), avg(lifetime_value_12m), median(lifetime_value_12m),
            quantile_cont(lifetime_value_12m, 0.9), count(*) - count(lifetime_value_12m)
        from marts.dim_customer_scores
        """,
    )
    section.intro = (
        "Predicted 12-month customer lifetime value (BG/NBD expected purchases x Gamma-Gamma expected "
        "order value, discounted), per customer with purchases."
    )
    section.figures = [
        KeyFigure("valued_customers", "Customers with a CLV", count),
        KeyFigure("mean_clv_12m", "Mean 12-month CLV", mean, "money"),
        KeyFigure("median_clv_12m", "Median 12-month CLV", median, "money"),
        KeyFigure("p90_clv_12m", "90th percentile", p90, "money"),
        KeyFigure("customers_without_clv", "Customers without a CLV", missing),
    ]
    section.plots.append(_plot_ltv_histogram(values))
    reasons = _rows(
        con,
        """
        select lifetime_value_missing_reason, count(*) from marts.dim_customer_scores
        where lifetime_value_12m is null group by 1 order by 2 desc, 1
        """,
    )
    if reasons:
        section.tables.append(
            Table("Why some customers have no CLV", ("reason", "customers"), tuple(reasons), ("text", "count"))
        )
    grid = _rows(
        con,
        """
        select rfm_segment, customer_channel, average_lifetime_value_12m, valued_customer_count
        from marts.dim_metrics_by_segment
        where not is_total and average_lifetime_value_12m is not null
        """,
    )
    section.plots.append(_plot_clv_by_segment_and_channel(grid))
    return section


def _channels(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("channels", "Channel mix and online-to-offline journeys")
    orders = _rows(
        con,
        """
        select order_channel, count(*), sum(net_amount) from marts.fct_orders
        where not is_cancelled group by 1 order by 1
        """,
    )
    touchpoints = _rows(
        con,
        "select channel, count(*), count(distinct customer_id) from marts.fct_touchpoints group by 1 order by 2 desc",
    )
    o2o = _one(
        con,
        """
        select
            count(*) filter (where online_order_count > 0 and store_order_count = 0),
            count(*) filter (where store_order_count > 0 and online_order_count = 0),
            count(*) filter (where online_order_count > 0 and store_order_count > 0),
            count(*) filter (where is_online_to_offline_shopper),
            coalesce(sum(online_to_offline_journey_count), 0),
            count(*) filter (where store_order_count > 0)
        from marts.dim_customer_traits
        """,
    )
    online_only, store_only, both, o2o_shoppers, journeys, store_buyers = o2o
    section.intro = (
        "Orders that count (not cancelled) and every recorded interaction, by channel. An online-to-offline "
        "journey is a store purchase of a product the same customer browsed online (web, app or QR scan) "
        "up to `kith__o2o_window_days` days before."
    )
    section.figures = [
        *(KeyFigure(f"orders:{channel}", f"Orders {channel}", n) for channel, n, _ in orders),
        *(KeyFigure(f"touchpoints:{channel}", f"Touchpoints {channel}", n) for channel, n, _ in touchpoints),
        KeyFigure("online_to_offline_journeys", "Online-to-offline journeys", journeys),
        KeyFigure("online_to_offline_shoppers", "Customers with such a journey", o2o_shoppers),
        KeyFigure(
            "online_to_offline_share",
            "Share of store buyers who browsed online first",
            o2o_shoppers / store_buyers if store_buyers else None,
            "rate",
        ),
    ]
    section.plots.append(_plot_orders_by_channel(orders))
    section.plots.append(
        _bar_plot(
            "plot-touchpoints-by-channel",
            "Touchpoints by channel",
            [c for c, _, _ in touchpoints],
            [n for _, n, _ in touchpoints],
            xlabel="touchpoints",
            alt="Horizontal bar chart of touchpoints per channel: "
            + ", ".join(f"{c} {n}" for c, n, _ in touchpoints)
            + ".",
        )
    )
    labels = ["online only", "store only", "online and store", "browsed online,\nbought in store"]
    counts = [online_only, store_only, both, o2o_shoppers]
    section.plots.append(
        _bar_plot(
            "plot-online-to-offline",
            "Where customers buy, and online-to-offline shoppers",
            labels,
            counts,
            xlabel="customers",
            alt=f"Customers buying online only: {online_only}; in store only: {store_only}; in both: {both}; "
            f"customers who bought in store a product they had browsed online: {o2o_shoppers}.",
            highlight=3,
        )
    )
    section.tables.append(
        Table(
            "Touchpoints by channel",
            ("channel", "touchpoints", "customers"),
            tuple(touchpoints),
            ("text", "count", "count"),
        )
    )
    return section


def _identity(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("identity", "Identity resolution")
    excluded_types = ", ".join(f"'{t}'" for t in TRANSACTION_IDENTIFIERS)
    customers, identifiers = _one(
        con, "select count(distinct customer_id), count(*) from marts.dim_customer_identifiers"
    )
    per_customer = _rows(
        con,
        f"""
        select identifier_count, count(*) from (
            select customer_id, count(*) as identifier_count from marts.dim_customer_identifiers
            where identifier_type not in ({excluded_types})
            group by 1
        ) group by 1 order by 1
        """,
    )
    by_type = _rows(
        con,
        """
        select identifier_type, count(*), count(distinct customer_id) from marts.dim_customer_identifiers
        group by 1 order by 2 desc, 1
        """,
    )
    merges, splits = _one(
        con,
        """
        select count(*) filter (where change_type = 'merge'), count(*) filter (where change_type = 'split')
        from marts.fct_customer_id_changes
        """,
    )
    excluded = _rows(
        con,
        """
        select identifier_type, exclusion_reason, count(*) from intermediate.int_identity_nodes
        where exclusion_reason is not null group by 1, 2 order by 3 desc, 1, 2
        """,
    )
    excluded_total = sum(row[2] for row in excluded)
    person_identifiers = sum(count * n for count, n in per_customer)
    section.intro = (
        "Every identifier (email, phone, CRM id, loyalty number, shop account, cookie, device, card, order id) "
        "is a node of a graph; identifiers seen together are linked; each connected group is one customer. "
        "Shared and blocklisted identifiers link no one, with the reason kept."
    )
    section.figures = [
        KeyFigure("identity_customers", "Customers in the id map", customers),
        KeyFigure("identifiers", "Identifiers", identifiers),
        KeyFigure(
            "identifiers_per_customer",
            "Identifiers per customer (mean, order and till ids left out)",
            person_identifiers / customers if customers else None,
            "decimal",
        ),
        KeyFigure("merges", "Merges (ids retired into an older customer)", merges),
        KeyFigure("splits", "Splits", splits),
        KeyFigure("excluded_identifiers", "Identifiers excluded from linking", excluded_total),
    ]
    section.plots.append(_plot_identifiers_per_customer(per_customer))
    section.plots.append(
        _bar_plot(
            "plot-identifiers-by-type",
            "Identifiers by type",
            [t for t, _, _ in by_type],
            [n for _, n, _ in by_type],
            xlabel="identifiers",
            alt="Horizontal bar chart of identifiers per type: " + ", ".join(f"{t} {n}" for t, n, _ in by_type) + ".",
        )
    )
    kinds: Counter[str] = Counter()
    for identifier_type, reason, n in excluded:
        kinds[f"{identifier_type}: {exclusion_kind(reason)}"] += n
    ordered = kinds.most_common()
    section.plots.append(
        _bar_plot(
            "plot-excluded-identifiers",
            "Identifiers excluded from linking, by type and reason",
            [k for k, _ in ordered],
            [n for _, n in ordered],
            xlabel="identifiers",
            alt="Horizontal bar chart of the identifiers that link no one, by type and reason: "
            + (", ".join(f"{k} {n}" for k, n in ordered) or "none")
            + ".",
            colour=PALETTE[2],
        )
    )
    section.tables.append(
        Table(
            "Identifiers by type",
            ("type", "identifiers", "customers"),
            tuple(by_type),
            ("text", "count", "count"),
        )
    )
    if excluded:
        section.tables.append(
            Table(
                "Excluded identifiers (int_identity_nodes.exclusion_reason)",
                ("type", "reason", "identifiers"),
                tuple(excluded[:25]),
                ("text", "text", "count"),
            )
        )
    return section


def _data_quality(run_results: Path | None) -> Section:
    section = Section("data-quality", "Data quality: dbt tests")
    if run_results is None or not run_results.exists():
        section.missing = (
            f"No dbt run results{f' at {run_results}' if run_results else ''}: run `kith build` "
            "(the tests run with the models), then `kith report` again."
        )
        return section
    try:
        results = parse_run_results(run_results)
    except (OSError, ValueError, KeyError) as exc:
        section.missing = f"{run_results} is not a dbt run_results.json ({exc}): run `kith build` again."
        return section
    if not results.tests:
        section.missing = (
            f"The last dbt command (`{results.command}`, {results.generated_at}) ran no test: run `kith build`, "
            "then `kith report` again."
        )
        return section
    counts = results.status_counts()
    section.intro = (
        f"Results of the last dbt command (`{results.command}`, finished {results.generated_at}): data tests "
        "(generic and singular) and unit tests. Warnings do not stop a build; failures and errors do."
    )
    section.figures = [
        KeyFigure("tests_run", "Tests run", len(results.tests)),
        *(KeyFigure(f"tests_{status}", f"Tests {_STATUS_LABELS[status]}", counts[status]) for status in TEST_STATUSES),
    ]
    section.plots.append(_plot_test_results(results))
    problems = [t for t in results.tests if t.status != "pass"]
    if problems:
        section.tables.append(
            Table(
                "Tests that did not pass",
                ("test", "kind", "status", "failing rows", "message"),
                tuple(
                    (t.name, t.kind, t.status, t.failures, _shorten(t.message or "", 200))
                    for t in sorted(problems, key=lambda t: (_STATUS_ORDER.get(t.status, len(TEST_STATUSES)), t.name))
                ),
                ("text", "text", "text", "count", "text"),
            )
        )
    else:
        section.notes.append("Every test passed.")
    other = Counter((r.kind, r.status) for r in results.others)
    if other:
        section.tables.append(
            Table(
                "Other nodes of the run",
                ("kind", "status", "nodes"),
                tuple((kind, status, n) for (kind, status), n in sorted(other.items())),
                ("text", "text", "count"),
            )
        )
    return section


def _rejected_rows(con: duckdb.DuckDBPyConnection, relations: set[str]) -> Section:
    section = Section("rejected-rows", "Rejected rows per source")
    systems = sorted(
        name.split(".")[0].removeprefix("raw_")
        for name in relations
        if name.startswith("raw_") and name.endswith(".rejected_rows") and not name.split(".")[0].endswith("_staging")
    )
    if not systems:
        section.missing = "No raw_<system>.rejected_rows table: run `kith ingest` (it loads and quarantines)."
        return section
    rejected = [
        (system, entity, reason, n)
        for system in systems
        for entity, reason, n in _rows(
            con,
            f"""
            select coalesce(entity, '?'), coalesce(reason, ''), count(*)
            from raw_{system}.rejected_rows group by 1, 2
            """,
        )
    ]
    files = {
        system: _one(
            con,
            f"""
            select count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                coalesce(sum(rows_rejected), 0)
            from raw_{system}.loaded_files
            """,
        )
        if f"raw_{system}.loaded_files" in relations
        else (None, None, None, None)
        for system in systems
    }
    rows_by_system: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    detail: Counter[tuple[str, str, str]] = Counter()
    for system, entity, reason, n in rejected:
        rows_by_system[system] += n
        for part in split_reasons(reason):
            by_kind[system][rejection_kind(part)] += n
            detail[(system, entity, rejection_detail(part))] += n
    total = sum(rows_by_system.values())
    read = sum(f[1] or 0 for f in files.values())
    section.intro = (
        "Rows that could not be parsed or broke the landing contract are kept, with their file, line and every "
        "reason, in `raw_<system>.rejected_rows` instead of being loaded. A row with several problems counts "
        "once per reason in the plot."
    )
    section.figures = [
        KeyFigure("rows_read", "Rows read from landing files", read),
        KeyFigure("rejected_rows", "Rows rejected", total),
        KeyFigure("rejected_share", "Share rejected", total / read if read else None, "rate"),
        *(KeyFigure(f"rejected_rows:{system}", f"Rejected {system}", rows_by_system[system]) for system in systems),
    ]
    section.plots.append(_plot_rejected_rows(systems, by_kind))
    section.tables.append(
        Table(
            "Files and rows per source",
            ("source", "files", "rows read", "rows loaded", "rows rejected", "rows in quarantine"),
            tuple((system, *files[system], rows_by_system[system]) for system in systems),
            ("text", "count", "count", "count", "count", "count"),
        )
    )
    if detail:
        section.tables.append(
            Table(
                "Rejected rows by source, entity and reason",
                ("source", "entity", "reason", "rows"),
                tuple(
                    (s, e, r, n) for (s, e, r), n in sorted(detail.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0]))
                ),
                ("text", "text", "text", "count"),
            )
        )
    return section


# -- reasons and run results ----------------------------------------------------------------------
_COLUMN_VALUE = re.compile(r"^column (?P<column>[^:]+): .* is not a valid (?P<type>\w+)$", re.DOTALL)
_REQUIRED = re.compile(r"^required column (?P<column>\S+) is missing$")
_CSV_STRUCTURE = re.compile(r"^(?P<kind>[A-Z][A-Z ]+):")


def split_reasons(reason: str) -> list[str]:
    """The reasons of one rejected row (the loader joins them with ``'; '``)."""
    parts = [part.strip() for part in (reason or "").split("; ")]
    return [part for part in parts if part] or ["(no reason recorded)"]


def rejection_kind(reason: str) -> str:
    """The kind of one rejection reason, without the offending value or column: for the plot."""
    if match := _COLUMN_VALUE.match(reason):
        return f"invalid {match['type']}"
    if _REQUIRED.match(reason):
        return "missing required value"
    if reason.lower().startswith("malformed json"):
        return "malformed JSON"
    if match := _CSV_STRUCTURE.match(reason):
        kind = match["kind"].strip().lower()
        return "wrong number of columns" if "columns" in kind else kind
    return _shorten(reason.split(":", 1)[0], 40)


def rejection_detail(reason: str) -> str:
    """One rejection reason with its column but without the offending value (it may be personal data)."""
    if match := _COLUMN_VALUE.match(reason):
        return f"column {match['column']}: not a valid {match['type']}"
    if match := _REQUIRED.match(reason):
        return f"required column {match['column']} is missing"
    return rejection_kind(reason)


def exclusion_kind(reason: str) -> str:
    """``shared: links 3 crm_id (at most 1 per customer)`` -> ``shared (links several crm_id)``."""
    head, _, rest = (reason or "").partition(":")
    types = re.findall(r"links \d+ (\w+)|, \d+ (\w+)", rest)
    linked = sorted({a or b for a, b in types})
    if head == "shared" and linked:
        return f"shared (links several {' and '.join(linked)})"
    return head.strip() or "excluded"


@dataclass(frozen=True)
class TestResult:
    unique_id: str
    kind: str  # data test, unit test; other resource types for the rest of the run
    status: str
    failures: int | None
    message: str | None

    @property
    def name(self) -> str:
        parts = self.unique_id.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else self.unique_id


@dataclass(frozen=True)
class RunResults:
    command: str
    generated_at: str
    tests: list[TestResult]
    others: list[TestResult]

    def status_counts(self) -> Counter[str]:
        counts: Counter[str] = Counter({status: 0 for status in TEST_STATUSES})
        counts.update(t.status for t in self.tests)
        return counts


def parse_run_results(path: Path) -> RunResults:
    """dbt's ``run_results.json``: the tests (data and unit) and the other nodes, with their status."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tests, others = [], []
    for result in data["results"]:
        unique_id = str(result["unique_id"])
        resource = unique_id.split(".", 1)[0]
        status = str(result.get("status") or "").lower()
        entry = TestResult(
            unique_id=unique_id,
            kind={"test": "data test", "unit_test": "unit test"}.get(resource, resource),
            status=status,
            failures=result.get("failures"),
            message=result.get("message"),
        )
        (tests if resource in ("test", "unit_test") else others).append(entry)
    args = data.get("args") or {}
    command = args.get("invocation_command") or f"dbt {args.get('which', '?')}"
    generated = (data.get("metadata") or {}).get("generated_at", "")
    return RunResults(
        command=str(command), generated_at=str(generated)[:19].replace("T", " ") + " UTC", tests=tests, others=others
    )


_STATUS_ORDER = {status: rank for rank, status in enumerate(TEST_STATUSES)}
_STATUS_LABELS = {
    "pass": "passed",
    "warn": "with warnings",
    "fail": "failed",
    "error": "in error",
    "skipped": "skipped",
}


# -- plots ----------------------------------------------------------------------------------------
_RC = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, no glyph paths
    "svg.hashsalt": "kith",  # the same data draws the same SVG
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
}


def _styled(draw: Callable[..., Plot]) -> Callable[..., Plot]:
    """Draw and save a plot under the report's matplotlib style (no global settings changed)."""

    @functools.wraps(draw)
    def styled(*args: Any, **kwargs: Any) -> Plot:
        import matplotlib

        with matplotlib.rc_context(_RC):
            return draw(*args, **kwargs)

    return styled


def _figure(title: str, width: float = 7.0, height: float = 3.2):
    """A figure (not pyplot's: no global state) with the title on the left, above everything."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
    return fig


def _compact_axis(axis, integer: bool = False) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_formatter(FuncFormatter(lambda value, _: _compact(value)))
    if integer:
        axis.set_major_locator(MaxNLocator(integer=True))


def _to_plot(fig, plot_id: str, caption: str, alt: str) -> Plot:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return Plot(plot_id, caption, alt, _inline_svg(buffer.getvalue(), plot_id, alt))


def _inline_svg(svg: str, plot_id: str, alt: str) -> str:
    """Matplotlib's SVG made fit to inline: no XML prolog, doctype or metadata; ids prefixed with the
    plot's id (several plots in one page would otherwise share ids such as ``figure_1``); the plot's
    id, role and title (its alternative text) on the root."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{plot_id}-{m[1]}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{plot_id}-{m[1]})", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{plot_id}-{m[1]}"', svg)
    open_end = svg.index(">")
    root = svg[:open_end]
    root = re.sub(r'\s(width|height)="[^"]*"', "", root)
    title_id = f"{plot_id}-title"
    return (
        f'{root} id="{plot_id}" role="img" aria-labelledby="{title_id}" class="plot">'
        f'<title id="{title_id}">{html.escape(alt)}</title>' + svg[open_end + 1 :]
    )


@_styled
def _bar_plot(
    plot_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str,
    alt: str,
    colour: str = PALETTE[0],
    highlight: int | None = None,
) -> Plot:
    fig = _figure(title, 7.0, max(1.6, 0.32 * len(labels) + 0.9))
    ax = fig.subplots()
    positions = list(range(len(labels)))
    colours = [PALETTE[1] if i == highlight else colour for i in positions]
    bars = ax.barh(positions, list(values), color=colours)
    ax.set_yticks(positions, list(labels))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    _compact_axis(ax.xaxis, integer=True)
    ax.bar_label(bars, labels=[_compact(v) for v in values], padding=3, fontsize=8)
    ax.margins(x=0.12)
    if not labels:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes, color="#777777")
        ax.set_yticks([])
    return _to_plot(fig, plot_id, title, alt)


@_styled
def _plot_revenue_by_month(months: list[str], by_channel: dict[str, list[float]], total: list[float]) -> Plot:
    fig = _figure("Revenue by month and order channel (after returns)", 7.0, 3.0)
    ax = fig.subplots()
    bottom = [0.0] * len(months)
    for i, (channel, values) in enumerate(by_channel.items()):
        ax.bar(range(len(months)), values, bottom=bottom, label=channel, color=PALETTE[i])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("revenue")
    _compact_axis(ax.yaxis)
    ax.set_xticks(range(len(months)), months, rotation=45, ha="right")
    ax.legend(frameon=False)
    alt = "Stacked bar chart of revenue per month, online and in store: " + ", ".join(
        f"{m} {_compact(t)}" for m, t in zip(months, total, strict=True)
    )
    return _to_plot(fig, "plot-revenue-by-month", "Revenue by month and channel", alt + ".")


@_styled
def _plot_ltv_histogram(values: list[float]) -> Plot:
    fig = _figure("Distribution of the 12-month CLV", 7.0, 3.0)
    ax = fig.subplots()
    if values:
        cap = values[min(len(values) - 1, int(0.99 * len(values)))]  # the top 1% in the last bin
        clipped = [min(v, cap) for v in values]
        ax.hist(clipped, bins=30, color=PALETTE[0])
        ax.axvline(_median(values), color=PALETTE[2], linestyle="--", label=f"median {_compact(_median(values))}")
        ax.legend(frameon=False)
        alt = (
            f"Histogram of the 12-month CLV of {len(values)} customers: median {_compact(_median(values))}, "
            f"99th percentile {_compact(cap)} (higher values in the last bar)."
        )
    else:
        ax.text(0.5, 0.5, "no customer has a CLV", ha="center", va="center", transform=ax.transAxes)
        alt = "Histogram of the 12-month CLV: no customer has one."
    ax.set_xlabel("12-month CLV (top 1% in the last bar)")
    ax.set_ylabel("customers")
    _compact_axis(ax.xaxis)
    return _to_plot(fig, "plot-ltv-distribution", "12-month CLV distribution", alt)


@_styled
def _plot_clv_by_segment_and_channel(grid: Iterable[tuple[str, str, Any, int]]) -> Plot:
    values = {(segment, channel): float(clv) for segment, channel, clv, _ in grid}
    segments = [s for s in RFM_SEGMENTS if any((s, c) in values for c in CUSTOMER_CHANNELS)]
    fig = _figure("Average 12-month CLV by RFM segment and where customers buy", 7.0, 3.2)
    ax = fig.subplots()
    width = 0.8 / len(CUSTOMER_CHANNELS)
    for i, channel in enumerate(CUSTOMER_CHANNELS):
        xs = [j + (i - 1) * width for j in range(len(segments))]
        ax.bar(xs, [values.get((s, channel), 0.0) for s in segments], width, label=channel, color=PALETTE[i])
    ax.set_xticks(range(len(segments)), _label_list(segments), rotation=30, ha="right")
    ax.set_ylabel("average 12-month CLV")
    _compact_axis(ax.yaxis)
    ax.legend(frameon=False, title="buys")
    alt = (
        "Grouped bar chart of the average 12-month CLV per RFM segment, for customers buying online only, "
        "in store only and in both: "
        + "; ".join(
            f"{_label(s)}: "
            + ", ".join(f"{c} {_compact(values[(s, c)])}" for c in CUSTOMER_CHANNELS if (s, c) in values)
            for s in segments
        )
    )
    return _to_plot(fig, "plot-clv-by-segment-and-channel", "Average CLV by segment and channel", alt + ".")


@_styled
def _plot_orders_by_channel(orders: list[tuple[str, int, Any]]) -> Plot:
    fig = _figure("Orders and revenue by order channel", 7.0, 2.4)
    left, right = fig.subplots(1, 2)
    channels = [c for c, _, _ in orders]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(channels))]
    for ax, values, title in (
        (left, [n for _, n, _ in orders], "Orders"),
        (right, [float(r or 0) for _, _, r in orders], "Revenue (after returns)"),
    ):
        bars = ax.barh(channels, values, color=colours)
        ax.invert_yaxis()
        ax.set_title(title, loc="left", fontsize=9, fontweight="normal")
        _compact_axis(ax.xaxis)
        ax.bar_label(bars, labels=[_compact(v) for v in values], padding=3, fontsize=8)
        ax.margins(x=0.2)
    alt = "Orders and revenue by order channel: " + ", ".join(
        f"{c} {n} orders, revenue {_compact(float(r or 0))}" for c, n, r in orders
    )
    return _to_plot(fig, "plot-orders-by-channel", "Orders and revenue by channel", alt + ".")


@_styled
def _plot_identifiers_per_customer(per_customer: list[tuple[int, int]]) -> Plot:
    buckets: Counter[str] = Counter()
    for count, customers in per_customer:
        buckets[str(count) if count < 10 else "10+"] += customers
    labels = [str(i) for i in range(1, 10) if str(i) in buckets] + (["10+"] if "10+" in buckets else [])
    fig = _figure("Identifiers per customer", 7.0, 2.8)
    ax = fig.subplots()
    bars = ax.bar(labels, [buckets[label] for label in labels], color=PALETTE[0])
    ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_xlabel("identifiers of the person (order and till transaction ids left out)")
    ax.set_ylabel("customers")
    alt = "Bar chart of customers by number of identifiers: " + ", ".join(
        f"{label}: {buckets[label]} customers" for label in labels
    )
    return _to_plot(fig, "plot-identifiers-per-customer", "Identifiers per customer", alt + ".")


@_styled
def _plot_test_results(results: RunResults) -> Plot:
    kinds = ["data test", "unit test"]
    counts = {kind: Counter(t.status for t in results.tests if t.kind == kind) for kind in kinds}
    fig = _figure("dbt test results", 7.0, 1.9)
    ax = fig.subplots()
    left = [0] * len(kinds)
    for status in TEST_STATUSES:
        values = [counts[kind][status] for kind in kinds]
        if any(values):
            ax.barh(kinds, values, left=left, color=STATUS_COLOURS[status], label=status)
            left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("tests")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    alt = "Stacked bar chart of dbt test results: " + "; ".join(
        f"{kind}s: " + ", ".join(f"{counts[kind][s]} {s}" for s in TEST_STATUSES if counts[kind][s]) for kind in kinds
    )
    return _to_plot(fig, "plot-test-results", "dbt test results", alt + ".")


@_styled
def _plot_rejected_rows(systems: list[str], by_kind: dict[str, Counter[str]]) -> Plot:
    kinds = sorted({kind for counter in by_kind.values() for kind in counter})
    fig = _figure("Rejected rows per source and reason", 7.0, max(1.8, 0.3 * len(systems) + 1.2))
    ax = fig.subplots()
    left = [0] * len(systems)
    for i, kind in enumerate(kinds):
        values = [by_kind[system][kind] for system in systems]
        ax.barh(systems, values, left=left, color=PALETTE[i % len(PALETTE)], label=kind)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("rejected rows (a row counts once per reason)")
    if kinds:
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    else:
        ax.text(0.5, 0.5, "no rejected rows", ha="center", va="center", transform=ax.transAxes)
    alt = "Stacked bar chart of rejected rows per source system and reason: " + (
        "; ".join(
            f"{system}: " + ", ".join(f"{n} {kind}" for kind, n in by_kind[system].most_common())
            for system in systems
            if by_kind[system]
        )
        or "none"
    )
    return _to_plot(fig, "plot-rejected-rows", "Rejected rows per source", alt + ".")


# -- HTML -----------------------------------------------------------------------------------------
_CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --accent: #2f6690; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #f7f8fa; }
header { background: var(--accent); color: #fff; padding: 1.5rem 2rem; }
header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
header p { margin: 0; opacity: .9; }
nav { padding: .75rem 2rem; background: #fff; border-bottom: 1px solid var(--line); }
nav a { color: var(--accent); margin-right: 1.25rem; text-decoration: none; white-space: nowrap; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.5rem;
          margin: 1.5rem 0; }
h2 { margin: .25rem 0 .5rem; font-size: 1.3rem; }
.intro, .note { color: var(--muted); }
.missing { background: #fff4e5; border-left: 4px solid #d9a441; padding: .75rem 1rem; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: .75rem;
             margin: 1rem 0; }
dl.figures div { border: 1px solid var(--line); border-radius: 4px; padding: .5rem .75rem; }
dl.figures dt { color: var(--muted); font-size: .8rem; }
dl.figures dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: .85rem; }
svg.plot { display: block; width: 100%; max-width: 760px; height: auto; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: .8rem; text-align: center; padding-bottom: 2rem; }
"""


def render_html(report: Report) -> str:
    nav = "".join(f'<a href="#{s.section_id}">{html.escape(s.title)}</a>' for s in report.sections)
    body = "\n".join(_render_section(section) for section in report.sections)
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kith report">
<title>Kith customer data report</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>Kith customer data report</h1>
<p>Warehouse <code>{html.escape(report.warehouse.name)}</code>, generated {generated}.</p>
</header>
<nav>{nav}</nav>
<main>
{body}
</main>
<footer>Written by <code>kith report</code>; everything is in this file (no network access needed).</footer>
</body>
</html>
"""


def _render_section(section: Section) -> str:
    parts = [f'<section id="{section.section_id}">', f"<h2>{html.escape(section.title)}</h2>"]
    if section.missing:
        parts.append(f'<p class="missing" data-missing="{section.section_id}">{_inline_code(section.missing)}</p>')
        parts.append("</section>")
        return "\n".join(parts)
    if section.intro:
        parts.append(f'<p class="intro">{_inline_code(section.intro)}</p>')
    if section.figures:
        parts.append('<dl class="figures">')
        for figure in section.figures:
            value = "" if figure.value is None else str(figure.value)
            parts.append(
                f"<div><dt>{html.escape(figure.label)}</dt>"
                f'<dd data-figure="{html.escape(figure.key)}" data-value="{html.escape(value)}">'
                f"{html.escape(figure.formatted())}</dd></div>"
            )
        parts.append("</dl>")
    for plot in section.plots:
        parts.append(f"<figure>{plot.svg}<figcaption>{html.escape(plot.caption)}</figcaption></figure>")
    for table in section.tables:
        parts.append(_render_table(table))
    for note in section.notes:
        parts.append(f'<p class="note">{_inline_code(note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _render_table(table: Table) -> str:
    kinds = table.kinds or ("text",) * len(table.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    rows = []
    for i, row in enumerate(table.rows):
        key = table.figure_keys[i] if i < len(table.figure_keys) else None
        cells = []
        keyed = False
        for value, kind in zip(row, kinds, strict=True):
            attributes = ' class="number"' if kind != "text" else ""
            if key and not keyed and kind != "text":
                attributes += f' data-figure="{html.escape(key)}" data-value="{"" if value is None else value}"'
                keyed = True
            cells.append(f"<td{attributes}>{html.escape(format_value(value, kind))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<table><caption>{html.escape(table.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


# -- small helpers --------------------------------------------------------------------------------
def format_value(value: Any, kind: str = "text") -> str:
    """A number as people read it: counts ``12,345``, money ``1,234.50``, rates ``12.3%``."""
    if value is None:
        return "-"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "rate":
        return f"{float(value):.1%}"
    if kind == "decimal":
        return f"{float(value):,.2f}"
    return str(value)


def _compact(value: float) -> str:
    value = float(value)
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _label(segment: str) -> str:
    return segment.replace("_", " ")


def _label_list(segments: Iterable[str]) -> list[str]:
    return [_label(s) for s in segments]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _inline_code(text: str) -> str:
    """Escape, then show `backticked` words as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
