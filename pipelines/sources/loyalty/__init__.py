"""Loyalty programme: members (changes per day) and the points ledger (CSV)."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "loyalty"
ENTITIES = (
    Entity(
        SYSTEM,
        "members",
        "csv",
        "merge",
        ("loyalty_number",),
        (
            Col("loyalty_number", required=True),
            Col("first_name"),
            Col("last_name"),
            Col("email"),
            Col("phone"),
            Col("postcode"),
            Col("date_of_birth", "date"),
            Col("tier"),
            Col("points_balance", "int"),
            Col("home_store_id"),
            Col("enrolled_at", "timestamp", True),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
    Entity(
        SYSTEM,
        "points_ledger",
        "csv",
        "append",
        ("ledger_entry_id",),
        (
            Col("ledger_entry_id", required=True),
            Col("loyalty_number", required=True),
            Col("entry_type", required=True),
            Col("points", "int", True),
            Col("reference_id"),
            Col("created_at", "timestamp", True),
        ),
    ),
)
