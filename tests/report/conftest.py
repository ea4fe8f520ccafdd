"""`kith report` on the shared built sample, and a headless chromium that opens it as a local file.

Chromium is Debian's (`make browser`), driven by Playwright with the catalog test's flags; a missing
chromium fails these tests, it does not skip them. Every request the page makes is recorded; any
request for something other than the report file itself is aborted, so a failing test cannot
reach the network either.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.catalog.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import run_kith


@dataclass(frozen=True)
class WrittenReport:
    path: Path
    stdout: str
    warehouse: Path
    run_results: Path


@dataclass
class OpenedPage:
    page: Any
    url: str
    requests: list[str] = field(default_factory=list)

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if u != self.url]


@pytest.fixture(scope="session")
def written_report(built_sample, tmp_path_factory: pytest.TempPathFactory) -> WrittenReport:
    """`kith report --out ...` on the built sample (dbt's run results of its build included)."""
    out = tmp_path_factory.mktemp("report") / "kith_report.html"
    proc = run_kith(built_sample.env, "report", "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return WrittenReport(out, proc.stdout, built_sample.warehouse, built_sample.target / "run_results.json")


@pytest.fixture(scope="session")
def report_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("report-chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        try:
            yield context
        finally:
            context.close()


def open_file(browser, path: Path) -> OpenedPage:
    """Open a local HTML file, recording every request and aborting all but the file itself."""
    url = path.resolve().as_uri()
    opened = OpenedPage(browser.new_page(), url)
    opened.page.on("request", lambda request: opened.requests.append(request.url))
    opened.page.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    opened.page.goto(url, wait_until="load")
    return opened


@pytest.fixture(scope="module")
def opened_report(written_report, report_browser) -> Iterator[OpenedPage]:
    opened = open_file(report_browser, written_report.path)
    yield opened
    opened.page.close()
