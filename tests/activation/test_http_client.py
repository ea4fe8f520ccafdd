"""The HTTP destination's client on its own: retries, back-off, Retry-After, rate limit, deadline.

A scripted session answers each POST in turn and a fake clock records every wait, so the exact
schedule is checked without sleeping.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from pipelines.activation.destinations.common import DeadlineExceededError, DeliveryError
from pipelines.activation.destinations.http import HttpClient, batch_key, parse_retry_after, safe_url


@dataclass
class Clock:
    now: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class Answer:
    def __init__(self, status: int, headers: dict[str, str] | None = None, text: str = "") -> None:
        self.status_code = status
        self.headers = headers or {}
        self.text = text
        self.reason = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Server Error"}.get(status, "")


@dataclass
class Session:
    """Answers POSTs from a script: an Answer, or an exception to raise."""

    script: list[Any]
    clock: Clock
    calls: list[dict[str, Any]] = field(default_factory=list)

    def post(self, url: str, data: bytes, headers: dict[str, str], timeout: float) -> Answer:
        self.calls.append({"at": self.clock.now, "headers": dict(headers), "timeout": timeout, "data": data})
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self) -> None:
        pass


def client(script: list[Any], clock: Clock | None = None, **settings: Any) -> tuple[HttpClient, Session, Clock]:
    clock = clock or Clock()
    session = Session(script, clock)
    settings = {"max_retries": 3, "backoff_seconds": 1.0, "max_backoff_seconds": 30.0, **settings}
    http = HttpClient(
        "https://user:pw@tool.example/hook?key=secret",
        token="t0k",
        session=session,  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
        **settings,
    )
    return http, session, clock


def test_a_2xx_answer_is_one_attempt_with_the_idempotency_key_and_token() -> None:
    http, session, clock = client([Answer(200)])
    assert http.send(b"{}", "key-1") == 1
    assert clock.waits == []
    headers = session.calls[0]["headers"]
    assert headers["Idempotency-Key"] == "key-1" and headers["Authorization"] == "Bearer t0k"


def test_server_errors_and_lost_connections_are_retried_with_doubling_backoff_and_the_same_key() -> None:
    script = [Answer(500), requests.ConnectionError("reset"), requests.ReadTimeout("slow"), Answer(204)]
    http, session, clock = client(script)
    assert http.send(b"{}", "key-1") == 4
    assert clock.waits == [1.0, 2.0, 4.0]
    assert {c["headers"]["Idempotency-Key"] for c in session.calls} == {"key-1"}


def test_backoff_is_capped() -> None:
    http, _, clock = client([Answer(503)] * 5 + [Answer(200)], max_retries=5, max_backoff_seconds=5.0)
    http.send(b"{}", "k")
    assert clock.waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_429_waits_for_retry_after() -> None:
    http, _, clock = client([Answer(429, {"Retry-After": "7"}), Answer(200)])
    assert http.send(b"{}", "k") == 2
    assert clock.waits == [7.0]


def test_retries_run_out_with_a_one_line_reason() -> None:
    http, session, _ = client([Answer(500)] * 4, max_retries=3)
    with pytest.raises(DeliveryError, match=r"^HTTP 500 from https://tool.example/hook after 4 attempts$"):
        http.send(b"{}", "k")
    assert len(session.calls) == 4


def test_a_client_error_is_not_retried_and_the_url_secrets_are_not_shown() -> None:
    http, session, clock = client([Answer(400, text="missing field\n email")])
    with pytest.raises(DeliveryError) as caught:
        http.send(b"{}", "k")
    assert str(caught.value) == "HTTP 400 Bad Request from https://tool.example/hook: missing field email"
    assert len(session.calls) == 1 and clock.waits == []
    assert "secret" not in str(caught.value) and "pw" not in str(caught.value)


def test_no_wait_or_request_passes_the_deadline() -> None:
    clock = Clock()
    http, session, _ = client([Answer(500), Answer(500), Answer(200)], clock, deadline=clock.now + 2.5)
    with pytest.raises(DeadlineExceededError, match="timed out"):
        http.send(b"{}", "k")
    # waited 1 s after the first failure; the next back-off (2 s) would end past the deadline
    assert clock.waits == [1.0] and len(session.calls) == 2
    assert clock.now <= http.deadline
    # the request timeout never exceeds what is left before the deadline
    assert session.calls[1]["timeout"] == pytest.approx(1.5)


def test_a_retry_after_beyond_the_deadline_ends_the_delivery_at_once() -> None:
    clock = Clock()
    http, _, _ = client([Answer(429, {"Retry-After": "3600"})], clock, deadline=clock.now + 60)
    with pytest.raises(DeadlineExceededError):
        http.send(b"{}", "k")
    assert clock.waits == []


def test_the_rate_limit_spaces_requests_out() -> None:
    http, session, _ = client([Answer(200)] * 3, requests_per_second=4.0)
    for _ in range(3):
        http.send(b"{}", "k")
    starts = [c["at"] for c in session.calls]
    assert [b - a for a, b in itertools.pairwise(starts)] == [0.25, 0.25]


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 <= parse_retry_after(in_a_minute) <= 60


def test_safe_url_and_batch_key() -> None:
    assert safe_url("https://u:p@h.example:8443/a/b?token=x#f") == "https://h.example:8443/a/b"
    assert batch_key(["a", "b"]) == batch_key(["a", "b"]) != batch_key(["b", "a"])
