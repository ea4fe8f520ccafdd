"""Customer service tickets, JSONL per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "helpdesk"
ENTITIES = (
    Entity(
        SYSTEM,
        "tickets",
        "jsonl",
        "merge",
        ("ticket_id",),
        (
            Col("ticket_id", required=True),
            Col("channel", required=True),
            Col("requester_email", path="requester.email"),
            Col("requester_phone", path="requester.phone"),
            Col("requester_name", path="requester.name"),
            Col("topic"),
            Col("subject"),
            Col("status", required=True),
            Col("satisfaction_score", "int", path="satisfaction"),
            Col("order_reference"),
            Col("created_at", "timestamp", True),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
