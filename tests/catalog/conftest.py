"""The catalog site of the shared built sample, served by `kith docs`, and a headless chromium.

Chromium is Debian's (`make browser` installs it); Playwright drives it over the DevTools protocol and
never downloads a browser. A missing chromium fails these tests: it does not skip them. The site is
served by `kith docs` itself (a subprocess on a free port), stopped with Ctrl-C at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DocsServer:
    url: str
    site: Path
    manifest: dict[str, Any]
    catalog: dict[str, Any]
    process: subprocess.Popen
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def docs_server(built_sample, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsServer]:
    """`kith docs --port N` on the built sample: generates the site, then serves it until the end."""
    root = tmp_path_factory.mktemp("catalog")
    target = root / "target"
    target.mkdir()
    for name in ("manifest.json", "partial_parse.msgpack"):  # a partial parse, in a target of our own
        if (built_sample.target / name).exists():
            shutil.copy2(built_sample.target / name, target / name)
    env = {
        **os.environ,
        **built_sample.env,
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(root / "logs"),
        "KITH_REPORTS": str(root / "reports"),
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    log = root / "kith_docs.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "kith.cli", "docs", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 600
    while True:
        assert process.poll() is None, f"kith docs exited with {process.returncode}:\n{log.read_text()[-5000:]}"
        assert time.monotonic() < deadline, f"kith docs did not serve within 10 minutes:\n{log.read_text()[-5000:]}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    site = root / "reports" / "docs"
    try:
        yield DocsServer(
            url=url,
            site=site,
            manifest=json.loads((site / "manifest.json").read_text()),
            catalog=json.loads((site / "catalog.json").read_text()),
            process=process,
            log=log,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Debian chromium with an empty profile. Requests beyond 127.0.0.1 are recorded by the
    tests (page.on("request")) and aborted here, so that a failing test cannot reach the internet.
    Module-scoped: the sync Playwright loop it holds is gone before other modules start their own."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    from playwright.sync_api import sync_playwright

    def local_only(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        context.route("**/*", local_only)
        try:
            yield context
        finally:
            context.close()
