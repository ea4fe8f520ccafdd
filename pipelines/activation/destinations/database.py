"""A database table (a CRM's Postgres or SQLite database): dlt's ``sqlalchemy`` destination.

Each audience is a table ``<table_prefix><audience>`` in the dataset (schema) ``dataset`` (default
``main`` on SQLite, ``kith`` elsewhere) of the database at the SQLAlchemy URL in ``url_env``: one row
per member, keyed by ``customer_id``, with the payload and ``kith_synced_at`` (when the row was last
written). Changes are merged with dlt's ``delete-insert`` strategy (not ``upsert``), removes through
dlt's ``hard_delete`` column hint on ``kith_removed`` (always false in the table), so the table equals
the audience after every successful sync. The merge runs in one transaction: a failure leaves the
table as it was, nothing is acknowledged, and the next sync sends the same changes again (replaying
them is harmless: delete-insert by key).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.activation.config import Destination
from pipelines.activation.destinations.common import Delivery, dlt_pipeline

# dlt 1.31's merge SQL for SQLAlchemy triggers this warning on every merge; it is harmless.
warnings.filterwarnings("ignore", message="implicitly coercing SELECT object to scalar subquery")


def dataset_name(destination: Destination, url: str) -> str:
    return destination.settings["dataset"] or ("main" if url.startswith("sqlite") else "kith")


def table_name(destination: Destination, audience: str) -> str:
    return destination.settings["table_prefix"] + audience


def masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: show nothing of it
        return "(unreadable database URL)"


def target(destination: Destination, audience: str, reports: Path) -> str:
    url = destination.env("url_env")
    if not url:
        return f"${destination.settings['url_env']}"
    return f"{masked(url)} table {dataset_name(destination, url)}.{table_name(destination, audience)}"


def member_rows(rows: pa.Table) -> pa.Table:
    """The table's rows: the payload, when it was written, and the hard-delete flag for removes."""
    removed = pc.equal(rows.column("kith_change"), "remove")
    members = rows.drop_columns(["kith_change", "kith_idempotency_key", "kith_sync_id"])
    return members.append_column("kith_removed", removed)


def deliver_database(delivery: Delivery) -> str:
    import dlt

    url = delivery.destination.env("url_env")
    resource = dlt.resource(
        member_rows(delivery.rows),
        name=table_name(delivery.destination, delivery.audience),
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key="customer_id",
        columns={"kith_removed": {"hard_delete": True}},
    )
    # a primary key on customer_id: the CRM gets a real key, and the merge's delete finds rows by index
    destination = dlt.destinations.sqlalchemy(credentials=url, create_primary_keys=True)
    pipeline = dlt_pipeline(delivery, destination, dataset_name=dataset_name(delivery.destination, url))
    delivery.check_deadline()
    pipeline.run(resource)
    delivery.acknowledge_all()
    return target(delivery.destination, delivery.audience, delivery.reports)
