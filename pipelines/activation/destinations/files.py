"""File exports that an email tool (or a call centre) imports: dlt's ``filesystem`` destination.

Each sync that has changes writes one file per audience, ``<path>/<audience>/<load_id>.<file_id>.<csv|parquet>``
(the load id grows with time, so file names sort in delivery order). A row is a change:
``kith_change`` is ``add``, ``update`` or ``remove``; adds and updates carry the whole payload, removes
the customer id and the identifiers last sent. An importer applies the files in name order as upserts
and deletes keyed by ``customer_id``; every row carries ``kith_idempotency_key``, so a file delivered
twice after a crash can be recognised. ``path`` is a folder (relative paths live under
``$KITH_REPORTS``) or any fsspec URL dlt supports (``s3://``, ``gs://``, ``sftp://``; their credentials
come from dlt's own environment variables).

Why not merge: dlt's filesystem destination merges only into Delta/Iceberg tables, which an email tool
does not read, so removals are rows in the change file rather than deletions.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.activation.config import Destination
from pipelines.activation.destinations.common import Delivery, dlt_pipeline

LAYOUT = "{table_name}/{load_id}.{file_id}.{ext}"


def location(path: str, reports: Path) -> str:
    """Where the destination's files go: a URL as it is, a relative folder under the reports folder."""
    if "://" in path:
        return path.rstrip("/")
    folder = Path(path).expanduser()
    return str(folder if folder.is_absolute() else (reports / folder).resolve())


def target(destination: Destination, audience: str, reports: Path) -> str:
    return f"{location(destination.settings['path'], reports)}/{audience}/"


def deliver_files(delivery: Delivery) -> str:
    import dlt

    settings = delivery.destination.settings
    where = location(settings["path"], delivery.reports)
    bucket, _, dataset = where.rpartition("/")
    pipeline = dlt_pipeline(
        delivery,
        dlt.destinations.filesystem(bucket_url=bucket, layout=LAYOUT),
        dataset_name=dataset,
    )
    delivery.check_deadline()
    info = pipeline.run(
        dlt.resource(delivery.rows, name=delivery.audience, write_disposition="append"),
        loader_file_format=settings["format"],
    )
    delivery.acknowledge_all()
    folder = f"{where}/{delivery.audience}"
    if "://" not in where:
        written = sorted(Path(folder).glob(f"{info.loads_ids[-1]}.*"))
        if len(written) == 1:
            return str(written[0])
    return f"{folder}/{info.loads_ids[-1]}.*.{settings['format']}"
