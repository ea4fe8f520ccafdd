"""Consent management platform: consent granted and withdrawn, JSONL per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "consent"
ENTITIES = (
    Entity(
        SYSTEM, "events", "jsonl", "append", ("consent_event_id",),
        (
            C("consent_event_id", required=True),
            C("email", path="subject.email"),
            C("phone", path="subject.phone"),
            C("crm_id", path="subject.crm_id"),
            C("loyalty_number", path="subject.loyalty_number"),
            C("shop_customer_id", path="subject.shop_customer_id"),
            C("anonymous_id", path="subject.anonymous_id"),
            C("channel", required=True),
            C("purpose", required=True),
            C("status", required=True),
            C("source_system"),
            C("occurred_at", "timestamp", True),
        ),
    ),
)
