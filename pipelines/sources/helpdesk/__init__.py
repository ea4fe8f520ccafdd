"""Customer service tickets, JSONL per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "helpdesk"
ENTITIES = (
    Entity(
        SYSTEM, "tickets", "jsonl", "merge", ("ticket_id",),
        (
            C("ticket_id", required=True),
            C("channel", required=True),
            C("requester_email", path="requester.email"),
            C("requester_phone", path="requester.phone"),
            C("requester_name", path="requester.name"),
            C("topic"),
            C("subject"),
            C("status", required=True),
            C("satisfaction_score", "int", path="satisfaction"),
            C("order_reference"),
            C("created_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
