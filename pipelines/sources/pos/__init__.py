"""In-store point of sale: one CSV per store per business day."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "pos"
ENTITIES = (
    Entity(
        SYSTEM, "transactions", "csv", "append", ("transaction_id",),
        (
            C("transaction_id", required=True),
            C("store_id", required=True),
            C("register_id"),
            C("business_date", "date", True),
            C("transaction_time", "timestamp", True),
            C("loyalty_number"),
            C("card_token"),
            C("payment_method"),
            C("total_amount", "decimal", True),
            C("discount_amount", "decimal"),
            C("currency"),
        ),
    ),
    Entity(
        SYSTEM, "transaction_lines", "csv", "append", ("transaction_id", "line_number"),
        (
            C("transaction_id", required=True),
            C("line_number", "int", True),
            C("sku", required=True),
            C("quantity", "int", True),
            C("unit_list_price", "decimal", True),
            C("unit_price", "decimal", True),
            C("discount_amount", "decimal"),
        ),
    ),
)
