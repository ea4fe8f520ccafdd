"""The landing entities as docs/landing_formats.md defines them (tests check the two agree)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    path: str | None  # JSON path for JSONL entities, None for CSV
    type: str
    required: bool


@dataclass(frozen=True, slots=True, eq=False)
class Entity:
    """A landing entity; compared and hashed by identity (there is one instance of each)."""

    system: str
    name: str
    fmt: str  # "jsonl" or "csv"
    columns: tuple[Column, ...]
    key: str  # column named in records.csv (transaction/order id for lines); "" = not a person record
    identifiers: tuple[tuple[str, str], ...] = ()  # (column, identifier_type)
    layout: str = "daily"  # "daily", "store" (YYYY-MM-DD/<store_id>.csv) or "snapshot"
    noisy: bool = True  # malformed lines are injected
    resent: bool = True  # some records are delivered twice (same or next day's file)
    folder: str = field(init=False)  # "<system>/<entity>"

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", f"{self.system}/{self.name}")


def _json(*cols: tuple[str, str, str, bool]) -> tuple[Column, ...]:
    return tuple(Column(name, path, typ, req) for name, path, typ, req in cols)


def _csv(*cols: tuple[str, str, bool]) -> tuple[Column, ...]:
    return tuple(Column(name, None, typ, req) for name, typ, req in cols)


T, F = True, False

WEB_EVENTS = Entity(
    "web",
    "events",
    "jsonl",
    _json(
        ("event_id", "event_id", "text", T),
        ("event_type", "event_type", "text", T),
        ("anonymous_id", "anonymous_id", "text", T),
        ("user_id", "user_id", "text", F),
        ("email", "traits.email", "text", F),
        ("occurred_at", "timestamp", "timestamp", T),
        ("received_at", "received_at", "timestamp", T),
        ("page_url", "page.url", "text", F),
        ("page_path", "page.path", "text", F),
        ("referrer", "page.referrer", "text", F),
        ("sku", "product.sku", "text", F),
        ("product_price", "product.price", "decimal", F),
        ("device_type", "context.device_type", "text", F),
        ("user_agent", "context.user_agent", "text", F),
        ("ip_address", "context.ip", "text", F),
        ("utm_source", "context.utm.source", "text", F),
        ("utm_medium", "context.utm.medium", "text", F),
        ("utm_campaign", "context.utm.campaign", "text", F),
    ),
    "event_id",
    (("anonymous_id", "anonymous_id"), ("user_id", "shop_customer_id"), ("email", "email")),
)

APP_EVENTS = Entity(
    "app",
    "events",
    "jsonl",
    _json(
        ("event_id", "event_id", "text", T),
        ("event_name", "event_name", "text", T),
        ("device_id", "device_id", "text", T),
        ("user_id", "user_id", "text", F),
        ("occurred_at", "occurred_at", "timestamp", T),
        ("received_at", "received_at", "timestamp", T),
        ("platform", "platform", "text", F),
        ("app_version", "app_version", "text", F),
        ("sku", "sku", "text", F),
    ),
    "event_id",
    (("device_id", "device_id"), ("user_id", "shop_customer_id")),
)

SHOP_CUSTOMERS = Entity(
    "shop",
    "customers",
    "jsonl",
    _json(
        ("shop_customer_id", "shop_customer_id", "text", T),
        ("email", "email", "text", T),
        ("first_name", "first_name", "text", F),
        ("last_name", "last_name", "text", F),
        ("phone", "phone", "text", F),
        ("accepts_marketing", "accepts_marketing", "bool", F),
        ("created_at", "created_at", "timestamp", T),
        ("updated_at", "updated_at", "timestamp", T),
    ),
    "shop_customer_id",
    (("shop_customer_id", "shop_customer_id"), ("email", "email"), ("phone", "phone")),
)

SHOP_ORDERS = Entity(
    "shop",
    "orders",
    "jsonl",
    _json(
        ("order_id", "order_id", "text", T),
        ("shop_customer_id", "shop_customer_id", "text", F),
        ("email", "email", "text", T),
        ("phone", "phone", "text", F),
        ("anonymous_id", "anonymous_id", "text", F),
        ("status", "status", "text", T),
        ("currency", "currency", "text", F),
        ("subtotal_amount", "subtotal", "decimal", F),
        ("discount_amount", "discount_total", "decimal", F),
        ("shipping_amount", "shipping", "decimal", F),
        ("total_amount", "total", "decimal", T),
        ("payment_method", "payment_method", "text", F),
        ("shipping_postcode", "shipping_address.postcode", "text", F),
        ("shipping_city", "shipping_address.city", "text", F),
        ("ordered_at", "created_at", "timestamp", T),
        ("updated_at", "updated_at", "timestamp", T),
    ),
    "order_id",
    (
        ("shop_customer_id", "shop_customer_id"),
        ("email", "email"),
        ("phone", "phone"),
        ("anonymous_id", "anonymous_id"),
    ),
)

SHOP_ORDER_LINES = Entity(
    "shop",
    "order_lines",
    "jsonl",
    _json(
        ("order_line_id", "order_line_id", "text", T),
        ("order_id", "order_id", "text", T),
        ("sku", "sku", "text", T),
        ("quantity", "quantity", "int", T),
        ("unit_list_price", "unit_list_price", "decimal", T),
        ("unit_price", "unit_price", "decimal", T),
        ("discount_amount", "discount", "decimal", F),
        ("updated_at", "updated_at", "timestamp", T),
    ),
    "order_id",
)

POS_TRANSACTIONS = Entity(
    "pos",
    "transactions",
    "csv",
    _csv(
        ("transaction_id", "text", T),
        ("store_id", "text", T),
        ("register_id", "text", F),
        ("business_date", "date", T),
        ("transaction_time", "timestamp", T),
        ("loyalty_number", "text", F),
        ("card_token", "text", F),
        ("payment_method", "text", F),
        ("total_amount", "decimal", T),
        ("discount_amount", "decimal", F),
        ("currency", "text", F),
    ),
    "transaction_id",
    (("loyalty_number", "loyalty_number"), ("card_token", "card_token")),
    layout="store",
)

POS_TRANSACTION_LINES = Entity(
    "pos",
    "transaction_lines",
    "csv",
    _csv(
        ("transaction_id", "text", T),
        ("line_number", "int", T),
        ("sku", "text", T),
        ("quantity", "int", T),
        ("unit_list_price", "decimal", T),
        ("unit_price", "decimal", T),
        ("discount_amount", "decimal", F),
    ),
    "transaction_id",
    layout="store",
)

PAYMENTS = Entity(
    "payments",
    "payments",
    "csv",
    _csv(
        ("payment_id", "text", T),
        ("reference_type", "text", T),
        ("reference_id", "text", T),
        ("payment_method", "text", T),
        ("card_token", "text", F),
        ("card_brand", "text", F),
        ("card_last4", "text", F),
        ("amount", "decimal", T),
        ("currency", "text", F),
        ("status", "text", T),
        ("processed_at", "timestamp", T),
        ("updated_at", "timestamp", T),
    ),
    "payment_id",
    (("card_token", "card_token"),),
)

TICKETS = Entity(
    "helpdesk",
    "tickets",
    "jsonl",
    _json(
        ("ticket_id", "ticket_id", "text", T),
        ("channel", "channel", "text", T),
        ("requester_email", "requester.email", "text", F),
        ("requester_phone", "requester.phone", "text", F),
        ("requester_name", "requester.name", "text", F),
        ("topic", "topic", "text", F),
        ("subject", "subject", "text", F),
        ("status", "status", "text", T),
        ("satisfaction_score", "satisfaction", "int", F),
        ("order_reference", "order_reference", "text", F),
        ("created_at", "created_at", "timestamp", T),
        ("updated_at", "updated_at", "timestamp", T),
    ),
    "ticket_id",
    (("requester_email", "email"), ("requester_phone", "phone")),
)

CRM_CONTACTS = Entity(
    "crm",
    "contacts",
    "csv",
    _csv(
        ("crm_id", "text", T),
        ("first_name", "text", F),
        ("last_name", "text", F),
        ("email", "text", F),
        ("phone", "text", F),
        ("address_line1", "text", F),
        ("city", "text", F),
        ("postcode", "text", F),
        ("country", "text", F),
        ("date_of_birth", "date", F),
        ("email_opt_in", "bool", F),
        ("sms_opt_in", "bool", F),
        ("created_at", "timestamp", T),
        ("updated_at", "timestamp", T),
    ),
    "crm_id",
    (("crm_id", "crm_id"), ("email", "email"), ("phone", "phone")),
)

LOYALTY_MEMBERS = Entity(
    "loyalty",
    "members",
    "csv",
    _csv(
        ("loyalty_number", "text", T),
        ("first_name", "text", F),
        ("last_name", "text", F),
        ("email", "text", F),
        ("phone", "text", F),
        ("postcode", "text", F),
        ("date_of_birth", "date", F),
        ("tier", "text", F),
        ("points_balance", "int", F),
        ("home_store_id", "text", F),
        ("enrolled_at", "timestamp", T),
        ("updated_at", "timestamp", T),
    ),
    "loyalty_number",
    (("loyalty_number", "loyalty_number"), ("email", "email"), ("phone", "phone")),
)

POINTS_LEDGER = Entity(
    "loyalty",
    "points_ledger",
    "csv",
    _csv(
        ("ledger_entry_id", "text", T),
        ("loyalty_number", "text", T),
        ("entry_type", "text", T),
        ("points", "int", T),
        ("reference_id", "text", F),
        ("created_at", "timestamp", T),
    ),
    "ledger_entry_id",
    (("loyalty_number", "loyalty_number"),),
)

PRODUCTS = Entity(
    "erp",
    "products",
    "csv",
    _csv(
        ("sku", "text", T),
        ("style_id", "text", T),
        ("product_name", "text", T),
        ("brand", "text", F),
        ("category", "text", F),
        ("subcategory", "text", F),
        ("size", "text", F),
        ("colour", "text", F),
        ("list_price", "decimal", T),
        ("unit_cost", "decimal", F),
        ("currency", "text", F),
        ("is_limited_edition", "bool", F),
        ("launched_on", "date", F),
        ("updated_at", "timestamp", T),
    ),
    "",
    layout="snapshot",
    noisy=False,
)

STORES = Entity(
    "erp",
    "stores",
    "csv",
    _csv(
        ("store_id", "text", T),
        ("store_name", "text", T),
        ("city", "text", F),
        ("postcode", "text", F),
        ("latitude", "double", F),
        ("longitude", "double", F),
        ("timezone", "text", F),
        ("opened_on", "date", F),
        ("updated_at", "timestamp", T),
    ),
    "",
    layout="snapshot",
    noisy=False,
)

RETURNS = Entity(
    "erp",
    "returns",
    "csv",
    _csv(
        ("return_id", "text", T),
        ("reference_type", "text", T),
        ("reference_id", "text", T),
        ("sku", "text", T),
        ("quantity", "int", T),
        ("reason", "text", F),
        ("refund_method", "text", F),
        ("refund_amount", "decimal", F),
        ("store_id", "text", F),
        ("returned_at", "timestamp", T),
        ("updated_at", "timestamp", T),
    ),
    "return_id",
)

INVENTORY = Entity(
    "erp",
    "inventory",
    "csv",
    _csv(
        ("snapshot_date", "date", T),
        ("location_id", "text", T),
        ("sku", "text", T),
        ("quantity_on_hand", "int", T),
        ("quantity_on_order", "int", F),
    ),
    "",
    resent=False,
)

CONSENT = Entity(
    "consent",
    "events",
    "jsonl",
    _json(
        ("consent_event_id", "consent_event_id", "text", T),
        ("email", "subject.email", "text", F),
        ("phone", "subject.phone", "text", F),
        ("crm_id", "subject.crm_id", "text", F),
        ("loyalty_number", "subject.loyalty_number", "text", F),
        ("shop_customer_id", "subject.shop_customer_id", "text", F),
        ("anonymous_id", "subject.anonymous_id", "text", F),
        ("channel", "channel", "text", T),
        ("purpose", "purpose", "text", T),
        ("status", "status", "text", T),
        ("source_system", "source_system", "text", F),
        ("occurred_at", "occurred_at", "timestamp", T),
    ),
    "consent_event_id",
    (
        ("email", "email"),
        ("phone", "phone"),
        ("crm_id", "crm_id"),
        ("loyalty_number", "loyalty_number"),
        ("shop_customer_id", "shop_customer_id"),
        ("anonymous_id", "anonymous_id"),
    ),
)

QR_SCANS = Entity(
    "qr",
    "scans",
    "jsonl",
    _json(
        ("scan_id", "scan_id", "text", T),
        ("anonymous_id", "anonymous_id", "text", T),
        ("loyalty_number", "loyalty_number", "text", F),
        ("store_id", "store_id", "text", T),
        ("qr_campaign", "campaign", "text", F),
        ("sku", "sku", "text", F),
        ("scanned_at", "scanned_at", "timestamp", T),
    ),
    "scan_id",
    (("anonymous_id", "anonymous_id"), ("loyalty_number", "loyalty_number")),
)

ENTITIES: tuple[Entity, ...] = (
    WEB_EVENTS,
    APP_EVENTS,
    SHOP_CUSTOMERS,
    SHOP_ORDERS,
    SHOP_ORDER_LINES,
    POS_TRANSACTIONS,
    POS_TRANSACTION_LINES,
    PAYMENTS,
    TICKETS,
    CRM_CONTACTS,
    LOYALTY_MEMBERS,
    POINTS_LEDGER,
    PRODUCTS,
    STORES,
    RETURNS,
    INVENTORY,
    CONSENT,
    QR_SCANS,
)
