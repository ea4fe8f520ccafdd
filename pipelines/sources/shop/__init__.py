"""E-commerce platform: accounts, orders and order lines (JSONL per day)."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "shop"
ENTITIES = (
    Entity(
        SYSTEM,
        "customers",
        "jsonl",
        "merge",
        ("shop_customer_id",),
        (
            Col("shop_customer_id", required=True),
            Col("email", required=True),
            Col("first_name"),
            Col("last_name"),
            Col("phone"),
            Col("accepts_marketing", "bool"),
            Col("created_at", "timestamp", True),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM,
        "orders",
        "jsonl",
        "merge",
        ("order_id",),
        (
            Col("order_id", required=True),
            Col("shop_customer_id"),
            Col("email", required=True),
            Col("phone"),
            Col("anonymous_id"),
            Col("status", required=True),
            Col("currency"),
            Col("subtotal_amount", "decimal", path="subtotal"),
            Col("discount_amount", "decimal", path="discount_total"),
            Col("shipping_amount", "decimal", path="shipping"),
            Col("total_amount", "decimal", True, "total"),
            Col("payment_method"),
            Col("shipping_postcode", path="shipping_address.postcode"),
            Col("shipping_city", path="shipping_address.city"),
            Col("ordered_at", "timestamp", True, "created_at"),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM,
        "order_lines",
        "jsonl",
        "merge",
        ("order_line_id",),
        (
            Col("order_line_id", required=True),
            Col("order_id", required=True),
            Col("sku", required=True),
            Col("quantity", "int", True),
            Col("unit_list_price", "decimal", True),
            Col("unit_price", "decimal", True),
            Col("discount_amount", "decimal", path="discount"),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
