"""The data catalog: `kith docs` generates dbt's docs site from the built warehouse and serves it on
127.0.0.1; a real headless browser renders it offline, lists dim_customers with its columns,
descriptions and lineage back to the raw sources, and requests nothing beyond the local server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kith.commands.docs import HOST, make_server
from kith.config import UserError

MODEL = "dim_customers"
MODEL_ID = f"model.kith.{MODEL}"
DESCRIBED = ("model", "seed", "snapshot", "source", "macro", "exposure")

# The lineage graph's elements, read from the docs app's own graph service (the graph is a canvas).
GRAPH_NODES = """() => {
    const graph = angular.element(document.body).injector().get('graph');
    return {
        orientation: graph.orientation,
        nodes: (graph.graph.elements || []).filter(e => !e.data.source).map(e => e.data.unique_id),
        edges: (graph.graph.elements || []).filter(e => e.data.source).map(e => [e.data.source, e.data.target]),
    };
}"""


def _plain(markdown: str) -> str:
    """Text as the page shows it: markdown code marks and emphasis dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", markdown)).strip()


def _root_resources(manifest: dict[str, Any]) -> Iterator[dict[str, Any]]:
    project = manifest["metadata"]["project_name"]
    for section in ("nodes", "sources", "macros", "exposures"):
        for resource in manifest[section].values():
            if resource.get("package_name") == project and resource["resource_type"] in DESCRIBED:
                yield resource


def _ancestors(manifest: dict[str, Any], unique_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [unique_id]
    while todo:
        for parent in manifest["parent_map"].get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


# -- the generated site -----------------------------------------------------------------------
def test_site_is_generated_from_the_built_warehouse(docs_server) -> None:
    assert sorted(p.name for p in docs_server.site.iterdir()) == ["catalog.json", "index.html", "manifest.json"]
    assert not docs_server.manifest["metadata"]["send_anonymous_usage_stats"], "the site would call dbt's tracker"
    # the catalog is read from the warehouse: the relation's real columns, with their types
    relation = docs_server.catalog["nodes"][MODEL_ID]
    declared = docs_server.manifest["nodes"][MODEL_ID]["columns"]
    assert {c.lower() for c in relation["columns"]} == set(declared)
    assert all(column["type"] for column in relation["columns"].values())


def test_every_model_column_source_seed_macro_and_exposure_is_described(docs_server) -> None:
    missing = []
    for resource in _root_resources(docs_server.manifest):
        if not (resource.get("description") or "").strip():
            missing.append(resource["unique_id"])
        for name, column in (resource.get("columns") or {}).items():
            if not (column.get("description") or "").strip():
                missing.append(f"{resource['unique_id']}.{name}")
    assert not missing, f"undescribed: {missing}"


def test_lineage_runs_from_raw_sources_to_marts_audiences_and_exposures(docs_server) -> None:
    manifest = docs_server.manifest
    ends = [
        n["unique_id"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "kith" and n["fqn"][1] == "marts"
    ]
    ends += list(manifest["exposures"])
    assert MODEL_ID in ends
    cut_off = [e for e in ends if not any(a.startswith("source.") for a in _ancestors(manifest, e))]
    assert not cut_off, f"no lineage back to a raw source: {cut_off}"
    for exposure in manifest["exposures"].values():
        assert exposure["depends_on"]["nodes"], f"{exposure['unique_id']} depends on nothing"


# -- in the browser ---------------------------------------------------------------------------
@dataclass
class RecordedPage:
    page: Any
    requests: list[str] = field(default_factory=list)


def open_model_page(browser, url: str) -> RecordedPage:
    recorded = RecordedPage(browser.new_page())
    recorded.page.on("request", lambda request: recorded.requests.append(request.url))
    recorded.page.goto(f"{url}#!/model/{MODEL_ID}")
    return recorded


def outside_requests(recorded: RecordedPage, url: str) -> list[str]:
    served = urlsplit(url).netloc
    return [
        u
        for u in recorded.requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != served
    ]


@pytest.fixture(scope="module")
def recorded(docs_server, browser) -> Iterator[RecordedPage]:
    recorded = open_model_page(browser, docs_server.url)
    first_column = next(iter(docs_server.manifest["nodes"][MODEL_ID]["columns"]))
    table = recorded.page.locator("section:has(#columns) table")
    table.get_by_text(first_column, exact=True).first.wait_for(timeout=60_000)
    yield recorded
    recorded.page.close()


@pytest.fixture(scope="module")
def page(recorded):
    return recorded.page


def test_page_lists_dim_customers_with_its_columns_and_descriptions(docs_server, page) -> None:
    node = docs_server.manifest["nodes"][MODEL_ID]
    listed = page.locator(f'a[data-nav-unique-id="{MODEL_ID}"] >> visible=true')  # the sidebar's project tree
    assert listed.count() >= 1, "not listed in the project tree"
    assert re.sub(r"\s", "", listed.first.inner_text()) == MODEL
    assert page.locator("h1 >> visible=true").first.inner_text().split()[0] == MODEL
    body = _plain(page.inner_text("body"))
    assert _plain(node["description"])[:120] in body
    columns = page.locator("section:has(#columns) table").first.inner_text()
    for name, column in node["columns"].items():
        assert re.search(rf"(^|\s){re.escape(name)}(\s|$)", columns), f"column {name} not shown"
        assert _plain(column["description"])[:60] in body, f"description of {name} not shown"


def test_page_shows_lineage_back_to_the_raw_sources(docs_server, page) -> None:
    manifest = docs_server.manifest
    parents = set(manifest["parent_map"][MODEL_ID])
    children = {c for c in manifest["child_map"][MODEL_ID] if c.startswith(("model.", "exposure."))}
    depends_on = page.locator("section:has(#depends_on)").first.inner_text()
    for parent in parents:
        assert parent.rsplit(".", 1)[-1] in depends_on, f"parent {parent} not listed under Depends On"

    page.locator(".launcher-btn").click()  # the lineage graph of the model (parents and children)
    page.wait_for_function("() => angular.element(document.body).injector().get('graph').graph.elements.length > 1")
    graph = page.evaluate(GRAPH_NODES)
    assert MODEL_ID in graph["nodes"]
    assert parents | children <= set(graph["nodes"])
    assert {(p, MODEL_ID) for p in parents} <= {tuple(e) for e in graph["edges"]}
    assert page.locator("canvas").first.bounding_box()["width"] > 100, "the graph is not drawn"

    page.locator("a[title='View Fullscreen'] >> visible=true").click()  # +dim_customers+: all ancestors
    page.wait_for_function("() => angular.element(document.body).injector().get('graph').orientation == 'fullscreen'")
    page.wait_for_function(
        "() => angular.element(document.body).injector().get('graph').graph.elements"
        ".some(e => (e.data.unique_id || '').startsWith('source.'))"
    )
    graph = page.evaluate(GRAPH_NODES)
    sources = {a for a in _ancestors(manifest, MODEL_ID) if a.startswith("source.")}
    assert sources and sources <= set(graph["nodes"]), "the raw sources are not in the lineage"


def test_browser_requested_nothing_beyond_the_local_server(docs_server, recorded) -> None:
    # runs after the page was rendered and its lineage opened (tests run in file order)
    assert any(u.startswith(f"{docs_server.url}catalog.json") for u in recorded.requests)
    assert not outside_requests(recorded, docs_server.url)


def test_the_request_check_sees_a_tracker(docs_server, browser, tmp_path: Path) -> None:
    """The control: the same site with dbt's usage tracking switched on calls out, and is caught."""
    site = tmp_path / "tracked"
    shutil.copytree(docs_server.site, site)
    manifest = json.loads((site / "manifest.json").read_text())
    manifest["metadata"]["send_anonymous_usage_stats"] = True
    (site / "manifest.json").write_text(json.dumps(manifest))
    server = make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    recorded = open_model_page(browser, url)
    try:
        for _ in range(300):  # up to 30 s
            if outside_requests(recorded, url):
                break
            recorded.page.wait_for_timeout(100)
        assert outside_requests(recorded, url), recorded.requests
    finally:
        recorded.page.close()
        server.shutdown()
        server.server_close()


# -- the command --------------------------------------------------------------------------------
def test_served_on_127_0_0_1_only(docs_server) -> None:
    assert urlsplit(docs_server.url).hostname == "127.0.0.1" == HOST
    server = make_server(docs_server.site, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_port_in_use_is_a_user_error(docs_server) -> None:
    port = int(urlsplit(docs_server.url).port)
    with pytest.raises(UserError, match=rf"cannot serve on 127\.0\.0\.1:{port}.*--port"):
        make_server(docs_server.site, port)


def test_docs_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    env = {**os.environ, "KITH_WAREHOUSE": str(tmp_path / "none.duckdb"), "KITH_REPORTS": str(tmp_path)}
    for args, fragment in (
        (["docs", "--no-serve"], "run `kith build` first"),
        (["docs", "--port", "70000"], "is not a port"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "kith.cli", *args], env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 2, proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and fragment in lines[0], proc.stderr
