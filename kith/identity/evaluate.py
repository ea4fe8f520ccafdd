"""Scoring identity resolution against the generator's ground truth.

Every source record that carries identifiers is given the customer of its strongest resolvable
identifier (per `identity_rules.priority`); records with none stay alone. Against the true person
behind each record: pairwise precision and recall (pairs of records put together / truly
together), over-merged customers (holding records of several people) and under-merged people
(spread over several customers).

Two more views separate what the data allows from what Kith does with it:

- **Linkable recall.** Many records of a person carry nothing that ties them to the rest of that
  person's records: a cookie that never logged in, a cash purchase without a loyalty card. No
  resolver can group those without guessing. The *evidence oracle* groups each person's records
  by the identifiers they actually share (a perfect resolver that knows who is who, uses every
  non-junk identifier and never over-merges); its pairs are the linkable pairs, and linkable
  recall is the share of them that Kith put together. It is computed from the ground truth and
  the parsed records only, never from Kith's resolution.
- **Deterministic and probabilistic contributions.** The deterministic-only result splits every
  customer where only a probabilistic (Splink) link holds it together; it is scored the same way,
  so the difference is what probabilistic matching adds (and costs) in recall and precision.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from kith.identity.components import component_labels

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
    linkable_pairs: int = 0
    linkable_recall: float = 1.0
    deterministic_precision: float = 1.0
    deterministic_recall: float = 1.0
    deterministic_linkable_recall: float = 1.0

    def lines(self) -> list[str]:
        out = [
            f"records scored: {self.records:,} of {self.persons:,} people, resolved into {self.customers:,} customers",
            f"pairwise precision {self.precision:.4f}  recall {self.recall:.4f}"
            f"  ({self.correct_pairs:,} correct of {self.predicted_pairs:,} predicted, {self.true_pairs:,} true pairs)",
            f"over-merged customers (records of 2+ people): {self.over_merged_customers:,}",
            f"under-merged people (spread over 2+ customers): {self.under_merged_persons:,}",
            f"linkable pairs (records of one person that share identifiers, directly or through a chain): "
            f"{self.linkable_pairs:,} of {self.true_pairs:,} true pairs; "
            f"recall over linkable pairs {self.linkable_recall:.4f}",
            f"deterministic links only: precision {self.deterministic_precision:.4f}  "
            f"recall {self.deterministic_recall:.4f}  linkable recall {self.deterministic_linkable_recall:.4f}; "
            f"with probabilistic links: precision {self.precision:.4f}  recall {self.recall:.4f}  "
            f"linkable recall {self.linkable_recall:.4f}",
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
        _predict(con, "id_map", "predicted")
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
        _evidence_oracle(con)
        linkable_cells = con.execute(
            "select s.customer_id, o.oracle_group, count(*) from scored as s "
            "inner join oracle as o using (record_id) group by 1, 2"
        ).fetchall()
        _deterministic_map(con)
        _predict(con, "det_map", "predicted_det")
        det_rows = con.execute(
            """
            select coalesce(p.customer_id, 'unresolved:' || s.record_id) as customer_id, s.person_id,
                o.oracle_group
            from scored as s
            inner join oracle as o using (record_id)
            left join predicted_det as p using (record_id)
            """
        ).fetchall()
    finally:
        con.close()

    known = score_cells(known_cells)
    linkable = score_cells(linkable_cells)
    det = score_cells(_count_cells((c, p) for c, p, _ in det_rows))
    det_linkable = score_cells(_count_cells((c, g) for c, _, g in det_rows))
    return IdentityScore(
        **score_cells(cells),
        by_source=by_source,
        known_precision=known["precision"],
        known_recall=known["recall"],
        known_records=known["records"],
        probabilistic_links=probabilistic[0],
        probabilistic_link_precision=probabilistic[1] / probabilistic[0] if probabilistic[0] else None,
        linkable_pairs=linkable["true_pairs"],
        linkable_recall=linkable["recall"],
        deterministic_precision=det["precision"],
        deterministic_recall=det["recall"],
        deterministic_linkable_recall=det_linkable["recall"],
    )


def _count_cells(pairs) -> list[tuple[str, str, int]]:
    counts: dict[tuple[str, str], int] = {}
    for key in pairs:
        counts[key] = counts.get(key, 0) + 1
    return [(a, b, n) for (a, b), n in counts.items()]


def _predict(con: duckdb.DuckDBPyConnection, map_table: str, output: str) -> None:
    """Give every record the customer (label) of its strongest mapped identifier."""
    parts = [
        """
        select u.record_id, m.customer_id, m.priority
        from intermediate.int_identifiers_unioned as u
        inner join {map} as m
            on u.identifier_type = m.identifier_type and u.identifier_value = m.identifier_value
        where u.source_system || '.' || u.source_entity in ({sources})
        """.format(map=map_table, sources=", ".join(f"'{s}'" for s in sorted(_RECORD_SOURCES)))
    ]
    for source, (table, key, columns) in _EVENT_SOURCES.items():
        for column in columns:
            parts.append(
                f"""
                select '{source}:' || e.{key} as record_id, m.customer_id, m.priority
                from {table} as e
                inner join {map_table} as m
                    on m.identifier_type = '{_EVENT_ID_TYPES[column]}' and e.{column} = m.identifier_value
                """
            )
    con.execute(
        f"create temp table {output} as select record_id, arg_min(customer_id, (priority, customer_id)) "
        "as customer_id from (" + " union all ".join(parts) + ") group by 1"
    )


def _evidence_oracle(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `oracle(record_id, oracle_group)`: each person's records grouped by shared identifiers.

    Built from the ground truth and the parsed records only: a record joins the identifiers it
    carries (junk and blocklisted values excluded), scoped to its true person, and the groups are
    the connected components of that bipartite graph. A record with no identifier is a group alone.
    """
    parts = [
        """
        select u.record_id, u.identifier_type, u.identifier_value
        from intermediate.int_identifiers_unioned as u
        where not coalesce(u.is_junk, false)
            and u.source_system || '.' || u.source_entity in ({})
        """.format(", ".join(f"'{s}'" for s in sorted(_RECORD_SOURCES)))
    ]
    for source, (table, key, columns) in _EVENT_SOURCES.items():
        for column in columns:
            junk = "and not coalesce(e.is_email_junk, false)" if column == "canonical_email" else ""
            parts.append(
                f"""
                select '{source}:' || e.{key}, '{_EVENT_ID_TYPES[column]}', e.{column}
                from {table} as e
                where e.{column} is not null and e.{column} <> '' {junk}
                """
            )
    con.execute(
        "create temp table record_identifiers as select * from (" + " union all ".join(parts) + ") "
        "as r(record_id, identifier_type, identifier_value) "
        "where (identifier_type, identifier_value) not in "
        "(select (identifier_type, identifier_value) from seeds.identity_blocklist)"
    )
    con.execute(
        "create temp table oracle_records as select record_id, person_id, "
        "(row_number() over (order by record_id) - 1)::bigint as rid from scored"
    )
    n_records = con.execute("select count(*) from oracle_records").fetchone()[0]
    edges = con.execute(
        """
        select r.rid,
            (dense_rank() over (order by r.person_id, i.identifier_type, i.identifier_value) - 1)::bigint as iid
        from oracle_records as r
        inner join record_identifiers as i using (record_id)
        """
    ).fetchnumpy()
    src = np.asarray(edges["rid"], dtype=np.int64)
    dst = np.asarray(edges["iid"], dtype=np.int64) + n_records
    n_nodes = n_records + (int(dst.max()) - n_records + 1 if len(dst) else 0)
    labels = component_labels(src, dst, n_nodes)[:n_records]
    con.register("oracle_labels", pa.table({"rid": np.arange(n_records, dtype=np.int64), "label": labels}))
    con.execute(
        "create temp table oracle as select r.record_id, 'g' || g.label::varchar as oracle_group "
        "from oracle_records as r inner join oracle_labels as g using (rid)"
    )
    con.unregister("oracle_labels")


def _deterministic_map(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `det_map`: identifiers labelled by their customer split at probabilistic links.

    Inside every customer, the identifiers connected by deterministic edges alone form one
    deterministic group; a customer held together only by a Splink link becomes several groups.
    """
    assigned = con.execute(
        "select node_id::bigint as node_id, customer_id from intermediate.int_customer_ids_assigned"
    ).fetchnumpy()
    edges = con.execute(
        """
        select e.node_id_a::bigint as a, e.node_id_b::bigint as b
        from intermediate.int_identity_edges_numbered as e
        inner join intermediate.int_customer_ids_assigned as ca on e.node_id_a = ca.node_id
        inner join intermediate.int_customer_ids_assigned as cb on e.node_id_b = cb.node_id
        where e.link_source = 'deterministic' and ca.customer_id = cb.customer_id
        """
    ).fetchnumpy()
    node_ids = np.asarray(assigned["node_id"], dtype=np.int64)
    n_nodes = int(node_ids.max()) + 1 if len(node_ids) else 0
    labels = component_labels(np.asarray(edges["a"]), np.asarray(edges["b"]), n_nodes)
    con.register("det_labels", pa.table({"node_id": node_ids, "label": labels[node_ids]}))
    con.execute(
        """
        create temp table det_map as
        select a.identifier_type, a.identifier_value,
            a.customer_id || '#' || g.label::varchar as customer_id, r.priority
        from intermediate.int_customer_ids_assigned as a
        inner join det_labels as g on a.node_id = g.node_id
        inner join seeds.identity_rules as r on a.identifier_type = r.identifier_type
        """
    )
    con.unregister("det_labels")


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
