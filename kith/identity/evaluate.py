"""Scoring identity resolution against the generator's ground truth.

Every source record that carries identifiers is given the customer of its strongest resolvable
identifier (per `identity_rules.priority`); records with none stay alone. Against the true person
behind each record: pairwise precision and recall (pairs of records put together / truly
together), over-merged customers (holding records of several people) and under-merged people
(spread over several customers).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

# Records whose identifiers are read from int_identifiers_unioned by record id.
_RECORD_SOURCES = {
    "shop.customers",
    "shop.orders",
    "pos.transactions",
    "payments.payments",
    "helpdesk.tickets",
    "crm.contacts",
    "loyalty.members",
    "consent.events",
    "qr.scans",
}
# Event streams that the graph reduces to identifier combinations: mapped event by event.
_EVENT_SOURCES = {
    "web.events": ("staging.stg_web__events", "event_id", ["anonymous_id", "shop_customer_id", "canonical_email"]),
    "app.events": ("staging.stg_app__events", "event_id", ["device_id", "shop_customer_id"]),
}
_EVENT_ID_TYPES = {
    "anonymous_id": "cookie_id",
    "shop_customer_id": "shop_customer_id",
    "canonical_email": "email",
    "device_id": "device_id",
}


@dataclass
class IdentityScore:
    records: int
    persons: int
    customers: int
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    over_merged_customers: int
    under_merged_persons: int
    by_source: dict
    known_precision: float = 1.0
    known_recall: float = 1.0
    known_records: int = 0
    probabilistic_links: int = 0
    probabilistic_link_precision: float | None = None

    def lines(self) -> list[str]:
        out = [
            f"records scored: {self.records:,} of {self.persons:,} people, resolved into {self.customers:,} customers",
            f"pairwise precision {self.precision:.4f}  recall {self.recall:.4f}"
            f"  ({self.correct_pairs:,} correct of {self.predicted_pairs:,} predicted, {self.true_pairs:,} true pairs)",
            f"over-merged customers (records of 2+ people): {self.over_merged_customers:,}",
            f"under-merged people (spread over 2+ customers): {self.under_merged_persons:,}",
            f"records of known customers (holding an email, phone, CRM, loyalty or shop id): "
            f"{self.known_records:,}: precision {self.known_precision:.4f}  recall {self.known_recall:.4f}",
            "  (the rest carry only anonymous identifiers never tied to a person: cookies, devices, "
            "cash and card-only store visits)",
            f"deterministic links: identifiers seen together in a record; probabilistic links (Splink): "
            f"{self.probabilistic_links:,}, precision against the truth "
            + (f"{self.probabilistic_link_precision:.4f}" if self.probabilistic_link_precision is not None else "n/a"),
        ]
        for source, s in sorted(self.by_source.items()):
            out.append(f"  {source:<20} records {s['records']:>8,}  resolved {s['resolved_share']:.1%}")
        return out


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def evaluate_identity(warehouse: Path, truth: Path) -> IdentityScore:
    records_csv = truth / "records.csv"
    if not records_csv.exists():
        raise FileNotFoundError(f"{records_csv} not found: the ground truth comes from `kith generate`")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(
            "create temp table truth as select system || '.' || entity as source, "
            "system || '.' || entity || ':' || record_id as record_id, person_id "
            "from read_csv(?, all_varchar = true) where person_id is not null and person_id <> ''",
            [str(records_csv)],
        )
        con.execute(
            """
            create temp table id_map as
            select m.identifier_type, m.identifier_value, m.customer_id, r.priority
            from marts.dim_customer_identifiers as m
            inner join seeds.identity_rules as r on m.identifier_type = r.identifier_type
            """
        )
        parts = [
            """
            select u.record_id, m.customer_id, m.priority
            from intermediate.int_identifiers_unioned as u
            inner join id_map as m
                on u.identifier_type = m.identifier_type and u.identifier_value = m.identifier_value
            where u.source_system || '.' || u.source_entity in ({})
            """.format(", ".join(f"'{s}'" for s in sorted(_RECORD_SOURCES)))
        ]
        for source, (table, key, columns) in _EVENT_SOURCES.items():
            for column in columns:
                parts.append(
                    f"""
                    select '{source}:' || e.{key} as record_id, m.customer_id, m.priority
                    from {table} as e
                    inner join id_map as m
                        on m.identifier_type = '{_EVENT_ID_TYPES[column]}' and e.{column} = m.identifier_value
                    """
                )
        con.execute(
            "create temp table predicted as select record_id, arg_min(customer_id, (priority, customer_id)) "
            "as customer_id from (" + " union all ".join(parts) + ") group by 1"
        )
        con.execute(
            """
            create temp table scored as
            select t.source, t.record_id, t.person_id,
                coalesce(p.customer_id, 'unresolved:' || t.record_id) as customer_id,
                p.customer_id is not null as is_resolved
            from truth as t left join predicted as p on t.record_id = p.record_id
            where t.source in ({})
            """.format(", ".join(f"'{s}'" for s in sorted(_RECORD_SOURCES | set(_EVENT_SOURCES))))
        )
        cells = con.execute("select customer_id, person_id, count(*) from scored group by 1, 2").fetchall()
        known_cells = con.execute(
            """
            select customer_id, person_id, count(*) from scored
            where customer_id in (
                select customer_id from marts.dim_customer_identifiers
                where identifier_type in ('email', 'phone', 'crm_id', 'loyalty_number', 'shop_customer_id')
            )
            group by 1, 2
            """
        ).fetchall()
        probabilistic = con.execute(
            """
            select count(*), count(*) filter (where ta.person_id = tb.person_id)
            from intermediate.int_identity_probabilistic_matches as m
            left join truth as ta on m.record_id_a = ta.record_id
            left join truth as tb on m.record_id_b = tb.record_id
            where m.decision = 'link'
            """
        ).fetchall()[0]
        by_source = {
            source: {"records": n, "resolved_share": resolved / n if n else 0.0}
            for source, n, resolved in con.execute(
                "select source, count(*), count(*) filter (where is_resolved) from scored group by 1"
            ).fetchall()
        }
    finally:
        con.close()

    known = score_cells(known_cells)
    return IdentityScore(
        **score_cells(cells),
        by_source=by_source,
        known_precision=known["precision"],
        known_recall=known["recall"],
        known_records=known["records"],
        probabilistic_links=probabilistic[0],
        probabilistic_link_precision=probabilistic[1] / probabilistic[0] if probabilistic[0] else None,
    )


def score_cells(cells: list[tuple[str, str, int]]) -> dict:
    """Pairwise scores from (predicted customer, true person, records) cells.

    A pair of records is predicted together when they share a customer, truly together when they
    share a person; correct pairs share both.
    """
    per_customer: dict[str, int] = {}
    per_person: dict[str, int] = {}
    customers_of_person: dict[str, set] = {}
    persons_of_customer: dict[str, set] = {}
    correct = 0
    for customer, person, n in cells:
        per_customer[customer] = per_customer.get(customer, 0) + n
        per_person[person] = per_person.get(person, 0) + n
        customers_of_person.setdefault(person, set()).add(customer)
        persons_of_customer.setdefault(customer, set()).add(person)
        correct += _pairs(n)
    predicted = sum(_pairs(n) for n in per_customer.values())
    true = sum(_pairs(n) for n in per_person.values())
    return {
        "records": sum(per_customer.values()),
        "persons": len(per_person),
        "customers": len(per_customer),
        "precision": correct / predicted if predicted else 1.0,
        "recall": correct / true if true else 1.0,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "over_merged_customers": sum(1 for p in persons_of_customer.values() if len(p) > 1),
        "under_merged_persons": sum(1 for c in customers_of_person.values() if len(c) > 1),
    }


def write_report(score: IdentityScore, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "identity_evaluation.json"
    path.write_text(json.dumps(asdict(score), indent=2) + "\n")
    with (folder / "identity_evaluation.txt").open("w") as handle:
        handle.write("\n".join(score.lines()) + "\n")
    return path
