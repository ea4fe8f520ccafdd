"""Fixtures for the activation tests: a small warehouse built by hand, a fake HTTP tool, readers of
what each kind of destination holds, and an independent statement of who may receive what.

Nothing here uses dbt: the audience and consent marts are created directly in a temporary DuckDB file
with the columns the real marts will have.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.activation.config import load_config
from pipelines.activation.sync import ActivationReport, activate

SYNC_AT = datetime(2026, 6, 1, 12, 0)


def pytest_configure(config: pytest.Config) -> None:
    # dlt 1.31's SQLAlchemy merge job warns on every merge (harmless; the engine filters it too)
    config.addinivalue_line("filterwarnings", "ignore:implicitly coercing SELECT object to scalar subquery")


CONSENT_FROM = datetime(2026, 1, 1)


# -- the warehouse -------------------------------------------------------------------------
def person(i: int, reason: str = "lapsed buyer") -> dict[str, Any]:
    """Customer i: every 10th has no email, every 7th no phone."""
    return {
        "customer_id": f"c{i:03d}",
        "email": None if i % 10 == 0 else f"  Person{i}@Example.com ",
        "phone_e164": None if i % 7 == 0 else f"+447700900{i:03d}",
        "audience_reason": reason,
        "lifetime_value": Decimal(i) * Decimal("10.25"),
        "last_order_date": date(2026, 1, 1) + timedelta(days=i),
    }


@dataclass
class Period:
    customer_id: str
    channel: str
    purpose: str
    granted: bool
    valid_from: datetime
    valid_to: datetime | None

    def covers(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


class Warehouse:
    """A DuckDB file with marts.aud_*, the consent marts and fct_orders, changed by the tests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.periods: list[Period] = []
        with self.connect() as con:
            con.execute("create schema marts")
            con.execute(
                """
                create table marts.fct_customer_consent_periods (
                    customer_id varchar, consent_channel varchar, consent_purpose varchar,
                    is_granted boolean, valid_from timestamp, valid_to timestamp
                )
                """
            )
            con.execute(
                """
                create table marts.fct_orders (
                    order_id varchar, customer_id varchar, ordered_at timestamp,
                    net_amount decimal(18, 2), paid_amount decimal(18, 2), is_cancelled boolean
                )
                """
            )

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path))

    @staticmethod
    def consent(customer: int, channel: str, purpose: str = "marketing") -> Period:
        """A granted period from CONSENT_FROM, still current."""
        return Period(f"c{customer:03d}", channel, purpose, True, CONSENT_FROM, None)

    def audience(self, name: str, rows: list[dict[str, Any]]) -> None:
        with self.connect() as con:
            con.execute(
                f"""
                create or replace table marts.aud_{name} (
                    customer_id varchar, email varchar, phone_e164 varchar, audience_reason varchar,
                    lifetime_value decimal(18, 2), last_order_date date
                )
                """
            )
            if rows:
                con.executemany(
                    f"insert into marts.aud_{name} values (?, ?, ?, ?, ?, ?)",
                    [
                        [
                            r["customer_id"],
                            r["email"],
                            r["phone_e164"],
                            r["audience_reason"],
                            r["lifetime_value"],
                            r["last_order_date"],
                        ]
                        for r in rows
                    ],
                )

    def grant(
        self,
        customer_id: str,
        channel: str,
        purpose: str = "marketing",
        valid_from: datetime = CONSENT_FROM,
        valid_to: datetime | None = None,
        granted: bool = True,
    ) -> None:
        self.grant_all([Period(customer_id, channel, purpose, granted, valid_from, valid_to)])

    def grant_all(self, periods: list[Period]) -> None:
        self.periods += periods
        self._write_periods()

    def withdraw(self, customer_id: str, channel: str, purpose: str, at: datetime) -> None:
        """End the open granted period at `at`; a not-granted period starts then."""
        for p in self.periods:
            if (p.customer_id, p.channel, p.purpose) == (customer_id, channel, purpose) and p.valid_to is None:
                p.valid_to = at
        self.periods.append(Period(customer_id, channel, purpose, False, at, None))
        self._write_periods()

    def _write_periods(self) -> None:
        with self.connect() as con:
            con.execute("delete from marts.fct_customer_consent_periods")
            con.executemany(
                "insert into marts.fct_customer_consent_periods values (?, ?, ?, ?, ?, ?)",
                [[p.customer_id, p.channel, p.purpose, p.granted, p.valid_from, p.valid_to] for p in self.periods],
            )

    def consented(self, customer_id: str, channel: str, purpose: str, at: datetime) -> bool:
        """Independent of the engine: a granted period for this consent covers `at`."""
        return any(
            p.granted and p.covers(at) and (p.customer_id, p.channel, p.purpose) == (customer_id, channel, purpose)
            for p in self.periods
        )

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.connect() as con:
            return con.execute(sql, params or []).fetchall()


# -- the fake HTTP tool --------------------------------------------------------------------
@dataclass
class FakeTool:
    """An HTTP tool on 127.0.0.1: applies changes per (path, audience), idempotently by key.

    ``actions`` maps a request number (1-based, across all paths) to what happens instead of a plain
    200: ``"500"``, ``"400"``, ``("429", seconds)``, ``("slow", seconds)`` (answers late, after
    applying), ``"lost"`` (applies, then closes the connection without answering). ``fail_from``
    answers 500 to every request from that number on; ``path_actions`` applies an action to every
    request to a path.
    """

    token: str = "test-token"
    actions: dict[int, Any] = field(default_factory=dict)
    fail_from: int | None = None
    path_actions: dict[str, Any] = field(default_factory=dict)
    members: dict[tuple[str, str], dict[str, dict]] = field(default_factory=lambda: defaultdict(dict))
    applied: list[dict] = field(default_factory=list)  # every change applied, with the path and time
    requests: list[dict] = field(default_factory=list)  # every request received
    applied_keys: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], bytes] | None:
        with self.lock:
            number = len(self.requests) + 1
            body = json.loads(raw)
            self.requests.append({"number": number, "path": path, "headers": headers, "raw": raw, "body": body})
        action = self.actions.get(number, self.path_actions.get(path))
        if self.fail_from is not None and number >= self.fail_from:
            action = "500"
        if action == "500":
            return 500, {}, b"injected failure"
        if action == "400":
            return 400, {}, b"bad request"
        if isinstance(action, tuple) and action[0] == "429":
            return 429, {"Retry-After": str(action[1])}, b"slow down"
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, b"no token"
        if isinstance(action, tuple) and action[0] == "slow":
            time.sleep(action[1])
        applied = self.apply(path, body)
        if action == "lost":
            return None
        return 200, {"Content-Type": "application/json"}, json.dumps({"applied": applied}).encode()

    def apply(self, path: str, body: dict) -> int:
        applied = 0
        with self.lock:
            state = self.members[(path, body["audience"])]
            for change in body["changes"]:
                if change["idempotency_key"] in self.applied_keys:
                    continue
                self.applied_keys.add(change["idempotency_key"])
                if change["change"] == "remove":
                    state.pop(change["customer_id"], None)
                else:
                    state[change["customer_id"]] = change["data"]
                self.applied.append({"path": path, "audience": body["audience"], "at": time.time(), **change})
                applied += 1
        return applied

    def state(self, path: str, audience: str) -> dict[str, dict]:
        with self.lock:
            return {k: dict(v) for k, v in self.members[(path, audience)].items()}


@pytest.fixture()
def fake_tool() -> Any:
    tool = FakeTool()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = tool.handle(self.path.strip("/"), {k.lower(): v for k, v in self.headers.items()}, raw)
            if answer is None:  # the response is lost
                self.close_connection = True
                return
            status, headers, payload = answer
            self.send_response(status)
            for k, v in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (a timeout test) breaks the pipe: expected

    server = Server(("127.0.0.1", 0), Handler)
    tool.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tool
    finally:
        server.shutdown()
        server.server_close()


# -- readers: what a destination holds now -------------------------------------------------
def file_changes(folder: Path) -> list[dict[str, Any]]:
    """Every change row in every file of a file destination's audience folder, in delivery order."""
    rows: list[dict[str, Any]] = []
    files = sorted(
        (f for f in folder.glob("*.*") if f.suffix in (".csv", ".parquet")),
        key=lambda f: float(".".join(f.name.split(".")[:2])),
    )
    for f in files:
        if f.suffix == ".csv":
            with f.open(newline="") as handle:
                rows += [
                    {k: (v if v != "" else None) for k, v in r.items()} | {"_file": f.name}
                    for r in csv.DictReader(handle)
                ]
        else:
            rows += [r | {"_file": f.name} for r in pq.read_table(f).to_pylist()]
    return rows


def replay(changes: list[dict[str, Any]]) -> dict[str, dict]:
    """What an importer holds after applying change rows in order (upsert / delete by customer_id)."""
    members: dict[str, dict] = {}
    for row in changes:
        if row["kith_change"] == "remove":
            members.pop(row["customer_id"], None)
        else:
            members[row["customer_id"]] = {k: v for k, v in row.items() if not k.startswith(("kith_", "_"))}
    return members


def database_members(db: Path, table: str) -> dict[str, dict]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        exists = con.execute("select 1 from sqlite_master where name = ?", [table]).fetchone()
        if not exists:
            return {}
        return {r["customer_id"]: dict(r) for r in con.execute(f"select * from {table}")}


def money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- configuration and running a sync -----------------------------------------------------
@dataclass
class Setup:
    root: Path
    warehouse: Warehouse
    config_path: Path
    reports: Path
    crm: Path

    def write_config(self, destinations: list[dict], audiences: dict | None = None) -> None:
        document = {"destinations": destinations}
        if audiences is not None:
            document["audiences"] = audiences
        self.config_path.write_text(yaml.safe_dump(document, sort_keys=False))

    def sync(self, at: datetime = SYNC_AT, **kwargs: Any) -> ActivationReport:
        kwargs.setdefault("grace_seconds", 1.0)
        return activate(self.warehouse.path, load_config(self.config_path), reports=self.reports, now=at, **kwargs)

    def exports(self, destination: str, audience: str) -> Path:
        return self.root / "exports" / destination / audience


def result(report: ActivationReport, audience: str, destination: str) -> Any:
    matches = [r for r in report.results if (r.audience, r.destination) == (audience, destination)]
    assert len(matches) == 1, report.results
    return matches[0]


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    crm = tmp_path / "crm.db"
    monkeypatch.setenv("KITH_TEST_CRM_URL", f"sqlite:///{crm}")
    monkeypatch.setenv("KITH_TEST_TOKEN", "test-token")
    return Setup(tmp_path, Warehouse(tmp_path / "kith.duckdb"), tmp_path / "activation.yml", tmp_path / "reports", crm)


def file_destination(setup: Setup, name: str = "email_files", fmt: str = "csv", **extra: Any) -> dict:
    return {
        "name": name,
        "kind": "file",
        "format": fmt,
        "path": str(setup.root / "exports" / name),
        "consent": {"channel": "email", "purpose": "marketing"},
        "identifiers": ["email"],
        **extra,
    }


def http_destination(tool: FakeTool, monkeypatch: pytest.MonkeyPatch, name: str = "sms_tool", **extra: Any) -> dict:
    monkeypatch.setenv(f"KITH_TEST_{name.upper()}_URL", tool.url(name))
    return {
        "name": name,
        "kind": "http",
        "url_env": f"KITH_TEST_{name.upper()}_URL",
        "token_env": "KITH_TEST_TOKEN",
        "batch_size": 4,
        "max_retries": 2,
        "backoff_seconds": 0.01,
        "request_timeout_seconds": 2,
        "consent": {"channel": "sms", "purpose": "marketing"},
        "identifiers": ["phone_e164"],
        **extra,
    }


def database_destination(name: str = "crm", **extra: Any) -> dict:
    return {
        "name": name,
        "kind": "database",
        "url_env": "KITH_TEST_CRM_URL",
        "consent": {"channel": "email", "purpose": "marketing"},
        **extra,
    }
