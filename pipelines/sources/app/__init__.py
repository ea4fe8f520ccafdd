"""Mobile app events, one JSONL file per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "app"
ENTITIES = (
    Entity(
        SYSTEM, "events", "jsonl", "append", ("event_id",),
        (
            C("event_id", required=True),
            C("event_name", required=True),
            C("device_id", required=True),
            C("user_id"),
            C("occurred_at", "timestamp", True),
            C("received_at", "timestamp", True),
            C("platform"),
            C("app_version"),
            C("sku"),
        ),
    ),
)
