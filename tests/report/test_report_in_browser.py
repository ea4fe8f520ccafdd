"""`kith report` on the built sample, opened as a local file in headless chromium: every section is
built, every plot is an inline SVG drawn with a size and a title, the key figures equal SQL written
here against the warehouse, the test figures equal dbt's run_results.json, and the page requests
nothing but the file (the control proves the check sees a request that leaves it)."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from tests.report.conftest import RenderedPage, render_in_chromium

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


@pytest.fixture(scope="module")
def rendered(written_report, tmp_path_factory: pytest.TempPathFactory) -> RenderedPage:
    return render_in_chromium(
        written_report.path, tmp_path_factory.mktemp("chromium-profile"), screenshot=("svg#plot-segment-sizes",)
    )


@pytest.fixture(scope="module")
def figures(rendered) -> dict[str, dict[str, str]]:
    return rendered.figures


@pytest.fixture(scope="module")
def warehouse(written_report):
    con = duckdb.connect(str(written_report.warehouse), read_only=True)
    yield con
    con.close()


def test_kith_report_says_where_it_wrote(written_report) -> None:
    assert f"report: {written_report.path}" in written_report.stdout
    assert written_report.path.stat().st_size > 10_000


def test_every_section_is_there_and_built(rendered) -> None:
    assert set(rendered.sections) == set(PLOTS_BY_SECTION)
    for section_id, section in rendered.sections.items():
        assert section["visible"], f"section {section_id} is not displayed"
        assert section["missing"] is None, f"section {section_id} is not built: {section['missing']}"


def test_every_plot_is_an_inline_svg_drawn_with_a_size_and_a_title(rendered) -> None:
    plots = {p["id"]: p for p in rendered.plots}
    assert len(plots) == len(rendered.plots), "two plots share an id"
    expected = {plot: section for section, ids in PLOTS_BY_SECTION.items() for plot in ids}
    assert set(plots) == set(expected)
    for plot_id, section in expected.items():
        plot = plots[plot_id]
        assert plot["section"] == section, f"{plot_id} is not in section {section}"
        assert plot["width"] > 300 and plot["height"] > 80, f"{plot_id} is drawn {plot['width']}x{plot['height']}"
        assert plot["shapes"] > 10, f"{plot_id} holds {plot['shapes']} shapes: nothing drawn"
        assert plot["labelledby"] == plot["title_id"] and len(plot["title"]) > 30, f"{plot_id} has no alt text"
    # the browser really painted them: a screenshot of a plot holds the bars' colour, not only white
    with Image.open(io.BytesIO(rendered.screenshots["svg#plot-segment-sizes"])) as shot:
        colours = {colour for _, colour in shot.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert len(colours) > 10 and (78, 121, 167) in colours, "the segment plot is not painted"


def test_ids_are_unique_in_the_page(rendered) -> None:
    duplicated = [i for i, n in Counter(rendered.ids).items() if n > 1]
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


def test_tests_that_did_not_pass_are_listed(rendered, written_report) -> None:
    results = json.loads(written_report.run_results.read_text())["results"]
    not_passed = [r["unique_id"].split(".", 2)[2] for r in results if r["status"] in ("warn", "fail", "error")]
    text = rendered.sections["data-quality"]["text"]
    for name in not_passed:
        assert name in text, f"{name} is not listed"


def test_the_file_references_nothing_outside_itself(written_report) -> None:
    text = written_report.path.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<iframe|<img|@import|url\(\s*['\"]?(https?:|//)", text, re.IGNORECASE)
    assert not re.search(r"\ssrc\s*=", text, re.IGNORECASE)
    hrefs = re.findall(r"\shref\s*=\s*\"([^\"]*)\"", text)
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")]


def test_the_page_requested_nothing_but_the_file(rendered) -> None:
    # recorded while the page was rendered, measured and photographed
    assert rendered.url in rendered.requests
    assert not rendered.outside_requests()


def test_the_request_check_sees_a_request_leaving_the_file(written_report, tmp_path: Path) -> None:
    """The control: the same report with one remote image asks for it, and the check catches it."""
    tampered = tmp_path / "tampered.html"
    html = written_report.path.read_text(encoding="utf-8")
    tampered.write_text(html.replace("</body>", '<img src="http://198.51.100.7/pixel.png" alt=""></body>'))
    rendered = render_in_chromium(tampered, tmp_path / "profile")
    assert rendered.outside_requests() == ["http://198.51.100.7/pixel.png"]
