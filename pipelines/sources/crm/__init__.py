"""CRM contacts: daily export of created or changed contacts (CSV)."""

from pipelines.landing import Column as Col
from pipelines.landing import Entity

SYSTEM = "crm"
ENTITIES = (
    Entity(
        SYSTEM,
        "contacts",
        "csv",
        "merge",
        ("crm_id",),
        (
            Col("crm_id", required=True),
            Col("first_name"),
            Col("last_name"),
            Col("email"),
            Col("phone"),
            Col("address_line1"),
            Col("city"),
            Col("postcode"),
            Col("country"),
            Col("date_of_birth", "date"),
            Col("email_opt_in", "bool"),
            Col("sms_opt_in", "bool"),
            Col("created_at", "timestamp", True),
            Col("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
