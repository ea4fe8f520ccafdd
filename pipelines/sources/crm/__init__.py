"""CRM contacts: daily export of created or changed contacts (CSV)."""

from pipelines.landing import Column as C
from pipelines.landing import Entity

SYSTEM = "crm"
ENTITIES = (
    Entity(
        SYSTEM, "contacts", "csv", "merge", ("crm_id",),
        (
            C("crm_id", required=True),
            C("first_name"),
            C("last_name"),
            C("email"),
            C("phone"),
            C("address_line1"),
            C("city"),
            C("postcode"),
            C("country"),
            C("date_of_birth", "date"),
            C("email_opt_in", "bool"),
            C("sms_opt_in", "bool"),
            C("created_at", "timestamp", True),
            C("updated_at", "timestamp", True),
        ),
        dedup_sort="updated_at",
    ),
)
