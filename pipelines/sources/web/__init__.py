"""Website clickstream (Segment/RudderStack-like track events), one JSONL file per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "web"
ENTITIES = (
    Entity(
        SYSTEM, "events", "jsonl", "append", ("event_id",),
        (
            C("event_id", required=True),
            C("event_type", required=True),
            C("anonymous_id", required=True),
            C("user_id"),
            C("email", path="traits.email"),
            C("occurred_at", "timestamp", True, "timestamp"),
            C("received_at", "timestamp", True),
            C("page_url", path="page.url"),
            C("page_path", path="page.path"),
            C("referrer", path="page.referrer"),
            C("sku", path="product.sku"),
            C("product_price", "decimal", path="product.price"),
            C("device_type", path="context.device_type"),
            C("user_agent", path="context.user_agent"),
            C("ip_address", path="context.ip"),
            C("utm_source", path="context.utm.source"),
            C("utm_medium", path="context.utm.medium"),
            C("utm_campaign", path="context.utm.campaign"),
        ),
    ),
)
