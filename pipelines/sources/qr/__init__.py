"""In-store QR-code scans that link a phone's browser cookie to a store visit, JSONL per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "qr"
ENTITIES = (
    Entity(
        SYSTEM,
        "scans",
        "jsonl",
        "append",
        ("scan_id",),
        (
            Col("scan_id", required=True),
            Col("anonymous_id", required=True),
            Col("loyalty_number"),
            Col("store_id", required=True),
            Col("qr_campaign", path="campaign"),
            Col("sku"),
            Col("scanned_at", "timestamp", True),
        ),
    ),
)
