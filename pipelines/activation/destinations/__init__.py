"""Destinations by kind: files (dlt filesystem), http (a custom dlt sink), database (dlt sqlalchemy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.activation.config import Destination
from pipelines.activation.destinations.common import DeadlineExceededError, Delivery, DeliveryError, one_line


def deliver(delivery: Delivery) -> str:
    """Send one audience's changes; acknowledges what the destination applied; returns where it went."""
    return _kind(delivery.destination.kind)[0](delivery)


def target(destination: Destination, audience: str, reports: Path) -> str:
    """Where an audience's changes go at a destination (for output and history), without sending."""
    return _kind(destination.kind)[1](destination, audience, reports)


def _kind(kind: str) -> tuple[Callable[[Delivery], str], Callable[[Destination, str, Path], str]]:
    if kind == "file":
        from pipelines.activation.destinations import files

        return files.deliver_files, files.target
    if kind == "http":
        from pipelines.activation.destinations import http

        return http.deliver_http, http.target
    from pipelines.activation.destinations import database

    return database.deliver_database, database.target


__all__ = ["DeadlineExceededError", "Delivery", "DeliveryError", "deliver", "one_line", "target"]
