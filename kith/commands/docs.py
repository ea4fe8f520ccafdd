"""``kith docs [--port N] [--no-serve]``: the data catalog (dbt docs) generated and served on 127.0.0.1.

``dbt docs generate`` needs the built warehouse (it reads the catalog of every relation). The site is
three files (``index.html``, ``manifest.json``, ``catalog.json``) copied to ``<reports>/docs/``, so
only the site is served, not the rest of dbt's target folder. With ``send_anonymous_usage_stats:
false`` (``dbt_project.yml``) the page makes no request beyond the server it comes from: it works
without internet access.
"""

from __future__ import annotations

import argparse
import functools
import logging
import shutil
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from kith.config import Paths, UserError
from kith.console import console, out

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SITE_FILES = ("index.html", "manifest.json", "catalog.json")

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("docs", help="generate the data catalog (dbt docs) and serve it on 127.0.0.1")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    p.add_argument("--no-serve", action="store_true", help="only generate the site")
    p.set_defaults(func=cmd_docs)


def cmd_docs(args: argparse.Namespace, paths: Paths) -> int:
    site = site_dir(paths)
    if not paths.warehouse.exists():
        raise UserError(f"warehouse {paths.warehouse} does not exist yet: run `kith build` first")
    console.print("generating the catalog (dbt docs generate) ...")
    if not generate_site(paths, site):
        return 1
    out.print(f"catalog site: {site}")
    if args.no_serve:
        return 0
    server = make_server(site, args.port)
    out.print(f"serving the catalog on http://{HOST}:{server.server_port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        server.server_close()
    return 0


def site_dir(paths: Paths) -> Path:
    return paths.reports / "docs"


def generate_site(paths: Paths, site: Path) -> bool:
    """Run ``dbt docs generate`` and copy the site's files to ``site``; False if dbt failed."""
    from kith.publish import dbt_target_path

    if not _dbt_docs_generate(paths):
        console.print("dbt docs generate FAILED: see the dbt output above")
        return False
    target = dbt_target_path()
    site.mkdir(parents=True, exist_ok=True)
    for name in SITE_FILES:
        shutil.copy2(target / name, site / name)
    return True


def make_server(site: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for the site on 127.0.0.1 (``port`` 0 = any free port); not started yet."""
    if not (site / "index.html").exists():
        raise UserError(f"no catalog site in {site}: run `kith docs --no-serve` first")
    handler = functools.partial(_QuietHandler, directory=str(site))
    try:
        return _Server((HOST, port), handler)
    except OSError as exc:
        raise UserError(f"cannot serve on {HOST}:{port} ({exc.strerror}): choose another --port") from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # a browser that closes a page mid-download is not an error worth a traceback
        log.info("request from %s ended early", client_address, exc_info=True)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.info("%s " + format, self.address_string(), *args)


def _dbt_docs_generate(paths: Paths) -> bool:
    """``dbt docs generate`` in-process, with Kith's writer lock (dbt-duckdb opens the warehouse read-write)."""
    from kith.dbt import run_dbt

    return run_dbt(paths, "docs generate").success


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (0-65535; 0 = any free port)")
    return port
