"""Where a person's records are: for every landing entity, how its rows are tied to a person.

A row belongs to the person when one of its identifiers, as staging normalised it, is one of the
person's identifiers in the id map (``marts.dim_customer_identifiers``), the same ties identity
resolution used to build the profile (``int_identifiers_unioned``). Line entities and the points
ledger carry no identifier of their own: they are tied by their order, transaction or loyalty card.
Reference data (products, stores, inventory) is about no one.

Every entity of every source system must be listed here, as personal or not: a test holds this
module to ``pipelines.sources`` and to the staging views, so a new entity cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalEntity:
    system: str
    entity: str
    staging: str  # the staging view of the raw table (schema ``staging``)
    ties: tuple[tuple[str, str], ...]  # (identifier type in the id map, staging column)

    @property
    def raw_table(self) -> str:
        return f"raw_{self.system}.{self.entity}"


PERSONAL_ENTITIES: tuple[PersonalEntity, ...] = (
    PersonalEntity(
        "web",
        "events",
        "stg_web__events",
        (("cookie_id", "anonymous_id"), ("shop_customer_id", "shop_customer_id"), ("email", "canonical_email")),
    ),
    PersonalEntity(
        "app", "events", "stg_app__events", (("device_id", "device_id"), ("shop_customer_id", "shop_customer_id"))
    ),
    PersonalEntity(
        "shop",
        "customers",
        "stg_shop__customers",
        (("shop_customer_id", "shop_customer_id"), ("email", "canonical_email"), ("phone", "phone_e164")),
    ),
    PersonalEntity(
        "shop",
        "orders",
        "stg_shop__orders",
        (
            ("order_id", "order_id"),
            ("shop_customer_id", "shop_customer_id"),
            ("cookie_id", "anonymous_id"),
            ("email", "canonical_email"),
            ("phone", "phone_e164"),
        ),
    ),
    PersonalEntity("shop", "order_lines", "stg_shop__order_lines", (("order_id", "order_id"),)),
    PersonalEntity(
        "pos",
        "transactions",
        "stg_pos__transactions",
        (("pos_transaction_id", "transaction_id"), ("loyalty_number", "loyalty_number"), ("card_token", "card_token")),
    ),
    PersonalEntity(
        "pos", "transaction_lines", "stg_pos__transaction_lines", (("pos_transaction_id", "transaction_id"),)
    ),
    PersonalEntity(
        "payments",
        "payments",
        "stg_payments__payments",
        (("card_token", "card_token"), ("order_id", "order_id"), ("pos_transaction_id", "transaction_id")),
    ),
    PersonalEntity(
        "helpdesk",
        "tickets",
        "stg_helpdesk__tickets",
        (("email", "requester_canonical_email"), ("phone", "requester_phone_e164"), ("order_id", "order_reference")),
    ),
    PersonalEntity(
        "crm",
        "contacts",
        "stg_crm__contacts",
        (("crm_id", "crm_id"), ("email", "canonical_email"), ("phone", "phone_e164")),
    ),
    PersonalEntity(
        "loyalty",
        "members",
        "stg_loyalty__members",
        (("loyalty_number", "loyalty_number"), ("email", "canonical_email"), ("phone", "phone_e164")),
    ),
    PersonalEntity(
        "loyalty", "points_ledger", "stg_loyalty__points_ledger_entries", (("loyalty_number", "loyalty_number"),)
    ),
    PersonalEntity(
        "erp", "returns", "stg_erp__returns", (("order_id", "order_id"), ("pos_transaction_id", "transaction_id"))
    ),
    PersonalEntity(
        "consent",
        "events",
        "stg_consent__events",
        (
            ("crm_id", "crm_id"),
            ("loyalty_number", "loyalty_number"),
            ("shop_customer_id", "shop_customer_id"),
            ("cookie_id", "anonymous_id"),
            ("email", "canonical_email"),
            ("phone", "phone_e164"),
        ),
    ),
    PersonalEntity(
        "qr", "scans", "stg_qr__scans", (("cookie_id", "anonymous_id"), ("loyalty_number", "loyalty_number"))
    ),
)

# Reference data: rows about products, stores and stock, never about a person.
NON_PERSONAL_ENTITIES: frozenset[tuple[str, str]] = frozenset(
    {("erp", "products"), ("erp", "stores"), ("erp", "inventory")}
)


def email_form_column(column: str) -> str | None:
    """The staging column with the email as typed (lower-cased, trimmed) beside a canonical one."""
    return column.replace("canonical_", "") if "canonical_email" in column else None
