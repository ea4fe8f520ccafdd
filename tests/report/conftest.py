"""`kith report` on the shared built sample, and a headless chromium that opens it as a local file.

Chromium is Debian's (`make browser`), driven by Playwright with the catalog test's flags; a missing
chromium fails these tests, it does not skip them. Every request the page makes is recorded; any
request for something other than the report file itself is aborted, so a failing test cannot reach
the network either.

Playwright's sync API refuses to start in a thread where another sync Playwright is alive (the
catalog tests keep one for the whole session), so the browser runs in a thread of its own: it opens
the file, reads what the tests check (plots, figures, ids, section texts, requests) and closes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.catalog.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import run_kith

# what the page shows, read in the browser after layout
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
SECTIONS_IN_PAGE = """() => Object.fromEntries([...document.querySelectorAll('section')].map(
    s => [s.id, {text: s.innerText, visible: s.getBoundingClientRect().height > 0,
                 missing: s.querySelector('[data-missing]') ? s.querySelector('[data-missing]').innerText : null}]))"""
IDS_IN_PAGE = "() => [...document.querySelectorAll('[id]')].map(e => e.id)"


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    stdout: str
    warehouse: Path
    run_results: Path


@dataclass(frozen=True)
class RenderedPage:
    url: str
    requests: list[str]
    plots: list[dict[str, Any]]
    figures: dict[str, dict[str, str]]
    sections: dict[str, dict[str, Any]]
    ids: list[str]
    screenshots: dict[str, bytes]

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


@pytest.fixture(scope="session")
def written_report(built_sample, tmp_path_factory: pytest.TempPathFactory) -> WrittenReport:
    """`kith report --out ...` on the built sample (dbt's run results of its build included)."""
    out = tmp_path_factory.mktemp("report") / "kith_report.html"
    proc = run_kith(built_sample.env, "report", "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return WrittenReport(out, proc.stdout, built_sample.warehouse, built_sample.target / "run_results.json")


def render_in_chromium(path: Path, profile: Path, screenshot: tuple[str, ...] = ()) -> RenderedPage:
    """Open ``path`` (file://) in headless chromium and read the page back; ``screenshot`` lists element
    selectors to photograph (PNG bytes)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(_render, path.resolve().as_uri(), profile, screenshot).result(timeout=180)


def _render(url: str, profile: Path, screenshot: tuple[str, ...]) -> RenderedPage:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)  # let anything the page would fetch after load start
            return RenderedPage(
                url=url,
                requests=requests,
                plots=page.evaluate(PLOTS_IN_PAGE),
                figures=page.evaluate(FIGURES_IN_PAGE),
                sections=page.evaluate(SECTIONS_IN_PAGE),
                ids=page.evaluate(IDS_IN_PAGE),
                screenshots={selector: page.locator(selector).screenshot() for selector in screenshot},
            )
        finally:
            context.close()
