"""Website clickstream (Segment/RudderStack-like track events), one JSONL file per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "web"
ENTITIES = (
    Entity(
        SYSTEM,
        "events",
        "jsonl",
        "append",
        ("event_id",),
        (
            Col("event_id", required=True),
            Col("event_type", required=True),
            Col("anonymous_id", required=True),
            Col("user_id"),
            Col("email", path="traits.email"),
            Col("occurred_at", "timestamp", True, "timestamp"),
            Col("received_at", "timestamp", True),
            Col("page_url", path="page.url"),
            Col("page_path", path="page.path"),
            Col("referrer", path="page.referrer"),
            Col("sku", path="product.sku"),
            Col("product_price", "decimal", path="product.price"),
            Col("device_type", path="context.device_type"),
            Col("user_agent", path="context.user_agent"),
            Col("ip_address", path="context.ip"),
            Col("utm_source", path="context.utm.source"),
            Col("utm_medium", path="context.utm.medium"),
            Col("utm_campaign", path="context.utm.campaign"),
        ),
    ),
)
