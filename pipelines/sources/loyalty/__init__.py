"""Loyalty programme: members (changes per day) and the points ledger (CSV)."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "loyalty"
ENTITIES = (
    Entity(
        SYSTEM, "members", "csv", "merge", ("loyalty_number",),
        (
            C("loyalty_number", required=True),
            C("first_name"),
            C("last_name"),
            C("email"),
            C("phone"),
            C("postcode"),
            C("date_of_birth", "date"),
            C("tier"),
            C("points_balance", "int"),
            C("home_store_id"),
            C("enrolled_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM, "points_ledger", "csv", "append", ("ledger_entry_id",),
        (
            C("ledger_entry_id", required=True),
            C("loyalty_number", required=True),
            C("entry_type", required=True),
            C("points", "int", True),
            C("reference_id"),
            C("created_at", "timestamp", True),
        ),
    ),
)
