"""In-store QR-code scans that link a phone's browser cookie to a store visit, JSONL per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "qr"
ENTITIES = (
    Entity(
        SYSTEM, "scans", "jsonl", "append", ("scan_id",),
        (
            C("scan_id", required=True),
            C("anonymous_id", required=True),
            C("loyalty_number"),
            C("store_id", required=True),
            C("qr_campaign", path="campaign"),
            C("sku"),
            C("scanned_at", "timestamp", True),
        ),
    ),
)
