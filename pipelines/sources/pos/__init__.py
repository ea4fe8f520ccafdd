"""In-store point of sale: one CSV per store per business day."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "pos"
ENTITIES = (
    Entity(
        SYSTEM,
        "transactions",
        "csv",
        "append",
        ("transaction_id",),
        (
            Col("transaction_id", required=True),
            Col("store_id", required=True),
            Col("register_id"),
            Col("business_date", "date", True),
            Col("transaction_time", "timestamp", True),
            Col("loyalty_number"),
            Col("card_token"),
            Col("payment_method"),
            Col("total_amount", "decimal", True),
            Col("discount_amount", "decimal"),
            Col("currency"),
        ),
    ),
    Entity(
        SYSTEM,
        "transaction_lines",
        "csv",
        "append",
        ("transaction_id", "line_number"),
        (
            Col("transaction_id", required=True),
            Col("line_number", "int", True),
            Col("sku", required=True),
            Col("quantity", "int", True),
            Col("unit_list_price", "decimal", True),
            Col("unit_price", "decimal", True),
            Col("discount_amount", "decimal"),
        ),
    ),
)
