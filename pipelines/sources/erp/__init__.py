"""ERP: product catalogue, stores, returns and daily inventory (CSV)."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "erp"
ENTITIES = (
    Entity(
        SYSTEM, "products", "csv", "merge", ("sku",),
        (
            C("sku", required=True),
            C("style_id", required=True),
            C("product_name", required=True),
            C("brand"),
            C("category"),
            C("subcategory"),
            C("size"),
            C("colour"),
            C("list_price", "decimal", True),
            C("unit_cost", "decimal"),
            C("currency"),
            C("is_limited_edition", "bool"),
            C("launched_on", "date"),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "stores", "csv", "merge", ("store_id",),
        (
            C("store_id", required=True),
            C("store_name", required=True),
            C("city"),
            C("postcode"),
            C("latitude", "double"),
            C("longitude", "double"),
            C("timezone"),
            C("opened_on", "date"),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "returns", "csv", "merge", ("return_id",),
        (
            C("return_id", required=True),
            C("reference_type", required=True),
            C("reference_id", required=True),
            C("sku", required=True),
            C("quantity", "int", True),
            C("reason"),
            C("refund_method"),
            C("refund_amount", "decimal"),
            C("store_id"),
            C("returned_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "inventory", "csv", "merge", ("snapshot_date", "location_id", "sku"),
        (
            C("snapshot_date", "date", True),
            C("location_id", required=True),
            C("sku", required=True),
            C("quantity_on_hand", "int", True),
            C("quantity_on_order", "int"),
        ),
        dedup_sort="_kith_file",
    ),
)
