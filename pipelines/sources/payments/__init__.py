"""Payment service provider: captured, refunded and failed payments, CSV per day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "payments"
ENTITIES = (
    Entity(
        SYSTEM, "payments", "csv", "merge", ("payment_id",),
        (
            C("payment_id", required=True),
            C("reference_type", required=True),
            C("reference_id", required=True),
            C("payment_method", required=True),
            C("card_token"),
            C("card_brand"),
            C("card_last4"),
            C("amount", "decimal", True),
            C("currency"),
            C("status", required=True),
            C("processed_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
