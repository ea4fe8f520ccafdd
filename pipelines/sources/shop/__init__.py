"""E-commerce platform: accounts, orders and order lines (JSONL per day)."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "shop"
ENTITIES = (
    Entity(
        SYSTEM, "customers", "jsonl", "merge", ("shop_customer_id",),
        (
            C("shop_customer_id", required=True),
            C("email", required=True),
            C("first_name"),
            C("last_name"),
            C("phone"),
            C("accepts_marketing", "bool"),
            C("created_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "orders", "jsonl", "merge", ("order_id",),
        (
            C("order_id", required=True),
            C("shop_customer_id"),
            C("email", required=True),
            C("phone"),
            C("anonymous_id"),
            C("status", required=True),
            C("currency"),
            C("subtotal_amount", "decimal", path="subtotal"),
            C("discount_amount", "decimal", path="discount_total"),
            C("shipping_amount", "decimal", path="shipping"),
            C("total_amount", "decimal", True, "total"),
            C("payment_method"),
            C("shipping_postcode", path="shipping_address.postcode"),
            C("shipping_city", path="shipping_address.city"),
            C("ordered_at", "timestamp", True, "created_at"),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "order_lines", "jsonl", "merge", ("order_line_id",),
        (
            C("order_line_id", required=True),
            C("order_id", required=True),
            C("sku", required=True),
            C("quantity", "int", True),
            C("unit_list_price", "decimal", True),
            C("unit_price", "decimal", True),
            C("discount_amount", "decimal", path="discount"),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
