"""`kith report` on the built sample, opened as a local file in headless chromium: every section is
built, every plot is an inline SVG drawn with a size and a title, the key figures equal SQL written
here against the warehouse, the test figures equal dbt's run_results.json, and the page requests
nothing but the file (the control proves the check sees a request that leaves it)."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.report.conftest import open_file

# section id -> the plots it must hold (written out here, not read from kith.report)
PLOTS_BY_SECTION = {
    "overview": ["plot-revenue-by-month"],
    "segments": ["plot-segment-sizes"],
    "lifetime-value": ["plot-ltv-distribution", "plot-clv-by-segment-and-channel"],
    "channels": ["plot-orders-by-channel", "plot-touchpoints-by-channel", "plot-online-to-offline"],
    "identity": ["plot-identifiers-per-customer", "plot-identifiers-by-type", "plot-excluded-identifiers"],
    "data-quality": ["plot-test-results"],
    "rejected-rows": ["plot-rejected-rows"],
}

PLOTS_IN_PAGE = """() => [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const title = svg.querySelector(':scope > title');
    return {
        id: svg.id,
        section: svg.closest('section') ? svg.closest('section').id : null,
        width: box.width,
        height: box.height,
        labelledby: svg.getAttribute('aria-labelledby'),
        title_id: title ? title.id : null,
        title: title ? title.textContent : '',
        shapes: svg.querySelectorAll('path, rect, use, text').length,
    };
})"""

FIGURES_IN_PAGE = """() => Object.fromEntries([...document.querySelectorAll('[data-figure]')].map(
    e => [e.dataset.figure, {value: e.dataset.value, text: e.textContent.trim()}]))"""


@pytest.fixture(scope="module")
def page(opened_report):
    return opened_report.page


@pytest.fixture(scope="module")
def figures(page) -> dict[str, dict[str, str]]:
    return page.evaluate(FIGURES_IN_PAGE)


@pytest.fixture(scope="module")
def warehouse(written_report):
    con = duckdb.connect(str(written_report.warehouse), read_only=True)
    yield con
    con.close()


def test_kith_report_says_where_it_wrote(written_report) -> None:
    assert f"report: {written_report.path}" in written_report.stdout
    assert written_report.path.stat().st_size > 10_000


def test_every_section_is_there_and_built(page) -> None:
    for section in PLOTS_BY_SECTION:
        assert page.locator(f"section#{section}").count() == 1, f"section {section} is missing"
        assert page.locator(f"section#{section} h2").is_visible()
    missing = page.locator("[data-missing]")
    assert missing.count() == 0, f"sections not built: {missing.all_inner_texts()}"


def test_every_plot_is_an_inline_svg_drawn_with_a_size_and_a_title(page) -> None:
    plots = {p["id"]: p for p in page.evaluate(PLOTS_IN_PAGE)}
    expected = {plot: section for section, ids in PLOTS_BY_SECTION.items() for plot in ids}
    assert set(plots) == set(expected)
    for plot_id, section in expected.items():
        plot = plots[plot_id]
        assert plot["section"] == section, f"{plot_id} is not in section {section}"
        assert plot["width"] > 300 and plot["height"] > 80, f"{plot_id} is drawn {plot['width']}x{plot['height']}"
        assert plot["shapes"] > 10, f"{plot_id} holds {plot['shapes']} shapes: nothing drawn"
        assert plot["labelledby"] == plot["title_id"] and len(plot["title"]) > 30, f"{plot_id} has no alt text"
    # the browser really painted them: a screenshot of a plot is not blank
    shot = page.locator("svg#plot-segment-sizes").screenshot()
    assert len(shot) > 5_000


def test_ids_are_unique_in_the_page(page) -> None:
    ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)")
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicated, f"ids used more than once (plots would share clip paths): {duplicated[:10]}"


def _as_of(con) -> object:
    return con.execute(
        """
        select cast(greatest(
            (select max(ordered_at) from marts.fct_orders),
            (select max(occurred_at) from marts.fct_touchpoints)
        ) as date)
        """
    ).fetchone()[0]


def _assert_count(figures, key: str, expected: int) -> None:
    assert key in figures, f"figure {key} is not in the report"
    assert int(figures[key]["value"]) == expected, f"{key}: report {figures[key]['value']}, SQL {expected}"
    assert figures[key]["text"] == f"{expected:,}", f"{key} shows {figures[key]['text']!r}"


def test_headline_figures_equal_sql_on_the_warehouse(figures, warehouse) -> None:
    customers, known = warehouse.execute(
        "select count(*), count(*) filter (where is_known) from marts.dim_customers"
    ).fetchone()
    _assert_count(figures, "customers", customers)
    _assert_count(figures, "known_customers", known)
    orders, buyers, revenue = warehouse.execute(
        """
        select count(*), count(distinct customer_id), sum(net_amount) from marts.fct_orders
        where not is_cancelled and customer_id is not null and order_date <= ?
        """,
        [_as_of(warehouse)],
    ).fetchone()
    _assert_count(figures, "orders", orders)
    _assert_count(figures, "buyers", buyers)
    assert abs(Decimal(figures["revenue"]["value"]) - revenue) < Decimal("0.01")
    assert figures["revenue"]["text"] == f"{revenue:,.2f}"
    for channel, n in warehouse.execute(
        "select order_channel, count(*) from marts.fct_orders where not is_cancelled group by 1"
    ).fetchall():
        _assert_count(figures, f"orders:{channel}", n)
    for channel, n in warehouse.execute("select channel, count(*) from marts.fct_touchpoints group by 1").fetchall():
        _assert_count(figures, f"touchpoints:{channel}", n)


def test_segment_and_identity_figures_equal_sql_on_the_warehouse(figures, warehouse) -> None:
    segments = warehouse.execute("select rfm_segment, count(*) from marts.dim_customer_scores group by 1").fetchall()
    assert segments
    for segment, n in segments:
        _assert_count(figures, f"segment_customers:{segment}", n)
    customers, identifiers = warehouse.execute(
        "select count(distinct customer_id), count(*) from marts.dim_customer_identifiers"
    ).fetchone()
    _assert_count(figures, "identity_customers", customers)
    _assert_count(figures, "identifiers", identifiers)
    excluded = warehouse.execute(
        "select count(*) from intermediate.int_identity_nodes where exclusion_reason is not null"
    ).fetchone()[0]
    _assert_count(figures, "excluded_identifiers", excluded)


def test_rejected_rows_equal_the_quarantine_tables(figures, warehouse) -> None:
    schemas = [
        s
        for (s,) in warehouse.execute(
            """
            select table_schema from information_schema.tables
            where table_name = 'rejected_rows' and table_schema like 'raw\\_%' escape '\\'
                and table_schema not like '%\\_staging' escape '\\'
            """
        ).fetchall()
    ]
    assert len(schemas) >= 10
    total = 0
    for schema in schemas:
        n = warehouse.execute(f"select count(*) from {schema}.rejected_rows").fetchone()[0]
        _assert_count(figures, f"rejected_rows:{schema.removeprefix('raw_')}", n)
        total += n
    assert total > 0, "the sample injects malformed rows: some must be rejected"
    _assert_count(figures, "rejected_rows", total)


def test_test_figures_equal_dbts_run_results(figures, written_report) -> None:
    results = json.loads(written_report.run_results.read_text())["results"]
    tests = [r for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test")]
    assert tests, "the build ran no test"
    statuses = Counter(r["status"] for r in tests)
    _assert_count(figures, "tests_run", len(tests))
    for status in ("pass", "warn", "fail", "error", "skipped"):
        _assert_count(figures, f"tests_{status}", statuses.get(status, 0))


def test_tests_that_did_not_pass_are_listed(page, written_report) -> None:
    results = json.loads(written_report.run_results.read_text())["results"]
    not_passed = [r["unique_id"].split(".", 2)[2] for r in results if r["status"] in ("warn", "fail", "error")]
    text = page.locator("section#data-quality").inner_text()
    for name in not_passed:
        assert name in text, f"{name} is not listed"


def test_the_file_references_nothing_outside_itself(written_report) -> None:
    text = written_report.path.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(\s*['\"]?(https?:|//)", text, re.IGNORECASE)
    assert not re.search(r"\ssrc\s*=", text, re.IGNORECASE)
    hrefs = re.findall(r"\shref\s*=\s*\"([^\"]*)\"", text)
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]


def test_the_page_requested_nothing_but_the_file(opened_report) -> None:
    # runs after the page was rendered, measured and screenshotted (tests run in file order)
    assert opened_report.url in opened_report.requests
    assert not opened_report.outside_requests()


def test_the_request_check_sees_a_request_leaving_the_file(report_browser, written_report, tmp_path: Path) -> None:
    """The control: the same report with one remote image asks for it, and the check catches it."""
    tampered = tmp_path / "tampered.html"
    html = written_report.path.read_text(encoding="utf-8")
    tampered.write_text(html.replace("</body>", '<img src="http://198.51.100.7/pixel.png" alt=""></body>'))
    opened = open_file(report_browser, tampered)
    try:
        assert opened.outside_requests() == ["http://198.51.100.7/pixel.png"]
    finally:
        opened.page.close()
