"""Mobile app events, one JSONL file per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "app"
ENTITIES = (
    Entity(
        SYSTEM,
        "events",
        "jsonl",
        "append",
        ("event_id",),
        (
            Col("event_id", required=True),
            Col("event_name", required=True),
            Col("device_id", required=True),
            Col("user_id"),
            Col("occurred_at", "timestamp", True),
            Col("received_at", "timestamp", True),
            Col("platform"),
            Col("app_version"),
            Col("sku"),
        ),
    ),
)
