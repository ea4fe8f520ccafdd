"""Payment service provider: captured, refunded and failed payments, CSV per day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "payments"
ENTITIES = (
    Entity(
        SYSTEM,
        "payments",
        "csv",
        "merge",
        ("payment_id",),
        (
            Col("payment_id", required=True),
            Col("reference_type", required=True),
            Col("reference_id", required=True),
            Col("payment_method", required=True),
            Col("card_token"),
            Col("card_brand"),
            Col("card_last4"),
            Col("amount", "decimal", True),
            Col("currency"),
            Col("status", required=True),
            Col("processed_at", "timestamp", True),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
