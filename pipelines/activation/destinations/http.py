"""An HTTP/webhook destination (an SMS tool, an ad platform): a custom ``@dlt.destination`` sink.

Each batch of ``batch_size`` changes is one ``POST`` of JSON to the URL in ``url_env``::

    {"audience": "...", "destination": "...", "sync_id": "...", "batch_key": "...",
     "changes": [{"change": "add|update|remove", "idempotency_key": "...", "customer_id": "...",
                  "data": {...payload...}}]}

with headers ``Idempotency-Key: <batch_key>`` (SHA-256 of the batch's change keys, the same on every
retry of the batch) and ``Authorization: Bearer <token>`` when ``token_env`` is set. A 2xx response
acknowledges the batch, which moves its changes into the sync state at once, so a failure later in
the sync costs only the unacknowledged batches. Connection errors, timeouts, 408, 425, 429 and 5xx are
retried with exponential back-off (``backoff_seconds`` doubling up to ``max_backoff_seconds``, or the
server's ``Retry-After``) up to ``max_retries`` times; other 4xx fail at once. ``requests_per_second``
spaces requests out. Nothing waits past the destination's deadline (``timeout_seconds``). A change
keeps its ``idempotency_key`` until acknowledged, also across syncs, so a server that applied a batch
whose response was lost recognises it when it comes again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from pipelines.activation.config import Destination
from pipelines.activation.destinations.common import DeadlineExceededError, Delivery, DeliveryError, dlt_pipeline

RETRY_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "kith-activation/1"


def safe_url(url: str) -> str:
    """The URL without credentials or query string (either may hold a secret), for output and history."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def batch_key(idempotency_keys: list[str]) -> str:
    return hashlib.sha256("\n".join(idempotency_keys).encode()).hexdigest()


class HttpClient:
    """POSTs batches with retries, back-off, a rate limit and a deadline (clock and sleep injectable)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        max_retries: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        requests_per_second: float = 0.0,
        request_timeout_seconds: float = 30.0,
        deadline: float = float("inf"),
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.token = token
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.request_timeout = request_timeout_seconds
        self.deadline = deadline
        self.session = session or requests.Session()
        self.clock = clock
        self.sleep = sleep
        self.requests = 0
        self._next_request_at = float("-inf")

    def send(self, body: bytes, key: str) -> int:
        """Deliver one batch; returns the number of attempts. Raises DeliveryError or DeadlineExceededError."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while True:
            attempt += 1
            self._wait(self._next_request_at - self.clock(), "waiting for the rate limit")
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                raise DeadlineExceededError(f"timed out before attempt {attempt} to {safe_url(self.url)}")
            started = self.clock()
            self._next_request_at = started + self.interval
            self.requests += 1
            retry_after: float | None = None
            try:
                response = self.session.post(
                    self.url, data=body, headers=headers, timeout=min(self.request_timeout, remaining)
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"no response ({type(exc).__name__})"
            except requests.RequestException as exc:
                raise DeliveryError(f"{safe_url(self.url)}: {type(exc).__name__}: {exc}") from None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return attempt
                problem = f"HTTP {status}"
                if status not in RETRY_STATUSES and status < 500:
                    detail = " ".join(response.text.split())[:200]
                    raise DeliveryError(f"HTTP {status} {response.reason} from {safe_url(self.url)}: {detail}")
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt > self.max_retries:
                raise DeliveryError(f"{problem} from {safe_url(self.url)} after {attempt} attempts")
            wait = retry_after if retry_after is not None else self.backoff(attempt)
            self._wait(wait, f"{problem}; retry {attempt} of {self.max_retries} in {wait:g}s")

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1, 2, ...): doubling, capped."""
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))

    def _wait(self, seconds: float, why: str) -> None:
        if seconds <= 0:
            return
        if self.clock() + seconds >= self.deadline:
            raise DeadlineExceededError(f"timed out: {why} would pass the deadline ({safe_url(self.url)})")
        self.sleep(seconds)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds or as an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(tz=when.tzinfo or UTC)).total_seconds())


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact; a float would round money
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def batch_body(delivery: Delivery, rows: list[dict[str, Any]]) -> tuple[bytes, str, list[str]]:
    """The request body of a batch, its Idempotency-Key, and its changes' keys."""
    keys = [r["kith_idempotency_key"] for r in rows]
    key = batch_key(keys)
    changes = [
        {
            "change": r["kith_change"],
            "idempotency_key": r["kith_idempotency_key"],
            "customer_id": r["customer_id"],
            "data": {k: v for k, v in r.items() if not k.startswith(("kith_", "_dlt")) and k != "customer_id"},
        }
        for r in rows
    ]
    body = {
        "audience": delivery.audience,
        "destination": delivery.destination.name,
        "sync_id": rows[0]["kith_sync_id"] if rows else None,
        "batch_key": key,
        "changes": changes,
    }
    return json.dumps(body, default=_json_default).encode(), key, keys


def target(destination: Destination, audience: str, reports: Path) -> str:
    url = destination.env("url_env")
    return safe_url(url) if url else f"${destination.settings['url_env']}"


def deliver_http(delivery: Delivery) -> str:
    import dlt
    from dlt.common.destination.exceptions import DestinationTerminalException

    settings = delivery.destination.settings
    url = delivery.destination.env("url_env")
    client = HttpClient(
        url,
        token=delivery.destination.env("token_env"),
        max_retries=settings["max_retries"],
        backoff_seconds=settings["backoff_seconds"],
        max_backoff_seconds=settings["max_backoff_seconds"],
        requests_per_second=settings["requests_per_second"],
        request_timeout_seconds=settings["request_timeout_seconds"],
        deadline=delivery.deadline,
    )
    failures: list[DeliveryError] = []

    # the decorator form: dlt 1.31's factory form (dlt.destination("name", destination_callable=...))
    # ignores batch_size
    @dlt.destination(
        batch_size=settings["batch_size"],
        loader_file_format="parquet",
        name=f"kith_http_{delivery.destination.name}",
        naming_convention="direct",
        max_table_nesting=0,
        loader_parallelism_strategy="sequential",
    )
    def sink(items: Any, table: Any) -> None:
        rows = items.to_pylist()
        body, key, keys = batch_body(delivery, rows)
        try:
            client.send(body, key)
        except DeliveryError as exc:
            failures.append(exc)
            raise DestinationTerminalException(str(exc)) from exc  # dlt must not retry: the client did
        delivery.acknowledge(keys)

    sink_destination = sink()
    pipeline = dlt_pipeline(delivery, sink_destination, dataset_name=delivery.destination.name)
    delivery.check_deadline()
    try:
        pipeline.run(dlt.resource(delivery.rows, name=delivery.audience))
    except Exception as exc:
        if failures:
            raise failures[-1] from exc
        raise
    finally:
        client.session.close()
    return safe_url(url)
