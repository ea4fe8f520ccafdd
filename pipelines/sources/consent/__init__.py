"""Consent management platform: consent granted and withdrawn, JSONL per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "consent"
ENTITIES = (
    Entity(
        SYSTEM,
        "events",
        "jsonl",
        "append",
        ("consent_event_id",),
        (
            Col("consent_event_id", required=True),
            Col("email", path="subject.email"),
            Col("phone", path="subject.phone"),
            Col("crm_id", path="subject.crm_id"),
            Col("loyalty_number", path="subject.loyalty_number"),
            Col("shop_customer_id", path="subject.shop_customer_id"),
            Col("anonymous_id", path="subject.anonymous_id"),
            Col("channel", required=True),
            Col("purpose", required=True),
            Col("status", required=True),
            Col("source_system"),
            Col("occurred_at", "timestamp", True),
        ),
    ),
)
