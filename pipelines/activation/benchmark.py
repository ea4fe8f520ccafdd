"""How long syncs take: ``python -m pipelines.activation.benchmark --members 100000``.

Builds a throwaway warehouse with one synthetic audience (90% consented to email and sms), then
syncs it three times to four destinations side by side (CSV files, Parquet files, a local HTTP tool
on 127.0.0.1 taking batches of 1,000, a SQLite database): the first sync (every member is an add),
a sync with no change, and a sync after 1% of members changed (0.5% left, 0.5% joined, 1% had an
attribute updated). Prints the seconds per sync and per destination, and the changes sent.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.activation.config import load_config
from pipelines.activation.sync import activate

SYNC_AT = datetime(2026, 6, 1, 12, 0)


def _warehouse(path: Path, members: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"""
            create table marts.aud_benchmark as
            select
                'c' || lpad(i::varchar, 9, '0') as customer_id,
                'person' || i || '@example.com' as email,
                '+4477' || lpad(i::varchar, 8, '0') as phone_e164,
                'synthetic' as audience_reason,
                (i % 1000)::decimal(18, 2) as lifetime_value,
                date '2026-01-01' + (i % 300)::int as last_order_date
            from range({members}) as t(i)
            """
        )
        con.execute(
            """
            create table marts.fct_customer_consent_periods as
            select customer_id, channel as consent_channel, 'marketing' as consent_purpose,
                true as is_granted, timestamp '2026-01-01' as valid_from, null::timestamp as valid_to
            from marts.aud_benchmark, (values ('email'), ('sms')) as c(channel)
            where hash(customer_id) % 10 <> 0
            """
        )


def _change_one_percent(path: Path, members: int) -> None:
    step = 200  # 0.5%
    with duckdb.connect(str(path)) as con:
        con.execute(f"delete from marts.aud_benchmark where right(customer_id, 9)::int % {step} = 0")
        con.execute("update marts.aud_benchmark set lifetime_value = -1 where right(customer_id, 9)::int % 100 = 1")
        con.execute(
            f"""
            insert into marts.aud_benchmark
            select 'n' || lpad(i::varchar, 9, '0'), 'new' || i || '@example.com', '+4478' || lpad(i::varchar, 8, '0'),
                'synthetic', 1, date '2026-05-01'
            from range({members // step}) as t(i)
            """
        )
        con.execute(
            """
            insert into marts.fct_customer_consent_periods
            select customer_id, channel, 'marketing', true, timestamp '2026-01-01', null
            from marts.aud_benchmark, (values ('email'), ('sms')) as c(channel)
            where starts_with(customer_id, 'n')
            """
        )


def _serve(port: Any, requests: Any, changes: Any) -> None:
    """The tool, in its own process so that it does not share the sync's interpreter lock."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with requests.get_lock():
                requests.value += 1
                changes.value += len(body["changes"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


def run(members: int, work: Path) -> list[dict[str, Any]]:
    import os

    warehouse = work / "kith.duckdb"
    _warehouse(warehouse, members)
    port, requests, changes = (multiprocessing.Value("i", 0) for _ in range(3))
    tool = multiprocessing.Process(target=_serve, args=(port, requests, changes), daemon=True)
    tool.start()
    while not port.value:
        time.sleep(0.05)
    os.environ["KITH_BENCH_TOOL_URL"] = f"http://127.0.0.1:{port.value}/tool"
    os.environ["KITH_BENCH_CRM_URL"] = f"sqlite:///{work / 'crm.db'}"
    email = {"channel": "email", "purpose": "marketing"}
    config = work / "activation.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "destinations": [
                    {"name": "csv_files", "kind": "file", "format": "csv", "path": str(work / "csv"), "consent": email},
                    {"name": "parquet_files", "kind": "file", "format": "parquet", "path": str(work / "pq")}
                    | {"consent": email},
                    {"name": "http_tool", "kind": "http", "url_env": "KITH_BENCH_TOOL_URL", "batch_size": 1000}
                    | {"consent": {"channel": "sms", "purpose": "marketing"}, "identifiers": ["phone_e164"]},
                    {"name": "sqlite_crm", "kind": "database", "url_env": "KITH_BENCH_CRM_URL", "consent": email},
                ]
            }
        )
    )
    rows = []
    try:
        for step, at in (("first sync", SYNC_AT), ("no change", SYNC_AT + timedelta(hours=1)), ("1% changed", None)):
            if at is None:
                _change_one_percent(warehouse, members)
                at = SYNC_AT + timedelta(hours=2)
            started, before = time.perf_counter(), (requests.value, changes.value)
            report = activate(warehouse, load_config(config), reports=work, now=at)
            rows.append(
                {
                    "step": step,
                    "seconds": round(time.perf_counter() - started, 2),
                    "tool received": f"{changes.value - before[1]:,} changes in {requests.value - before[0]} requests",
                    **{r.destination: f"{r.changes:,} in {r.seconds or 0:.1f}s ({r.status})" for r in report.results},
                }
            )
    finally:
        tool.terminate()
        tool.join()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kith-activation-bench-") as work:
        rows = run(args.members, Path(work))
    print(f"audience of {args.members:,} members; per destination: changes sent in seconds")
    for row in rows:
        print("  " + ", ".join(f"{k}: {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
