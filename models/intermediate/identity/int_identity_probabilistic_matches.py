"""Probabilistic matches between person records (Fellegi-Sunter scoring with Splink).

Trains on int_identity_person_records (u by random sampling, m by EM, fixed seed) and keeps every
scored pair at or above the review threshold: `link` at or above the link threshold when first
names and birth dates do not conflict, `review` otherwise. Thresholds come from vars `kith__match_link_threshold` and
`kith__match_review_threshold` (through the model's meta in _identity_probabilistic.yml). Pairs of
two records anchored by an identifier a customer holds at most one of (`identity_rules`,
max_per_customer = 1) are left out: the identity graph would refuse them. Splink works in a
throwaway in-memory catalog attached to this model's connection, never in the warehouse schemas
(on Spark: an in-memory DuckDB on the driver holding the person records; kith/frames.py).
Logic and tests: kith/identity/probabilistic.py, tests/identity/test_probabilistic.py.
"""

import pyarrow as pa

from kith.frames import duckdb_view, model_result, relations
from kith.identity.probabilistic import match_records


def model(dbt, session):
    dbt.config(materialized="table")
    meta = dbt.config.get("meta") or {}
    link_threshold = float(meta["kith_link_threshold"])
    review_threshold = float(meta["kith_review_threshold"])
    relation = relations(session)
    one_per_person = [
        row[0]
        for row in relation(dbt.ref("identity_rules"))
        .filter("max_per_customer = 1")
        .project("identifier_type")
        .order("identifier_type")
        .fetchall()
    ]
    con, records = duckdb_view(session, relation(dbt.ref("int_identity_person_records")), "int_identity_person_records")
    links, reviews = match_records(
        con,
        records,
        link_threshold=link_threshold,
        review_threshold=review_threshold,
        one_per_person=one_per_person,
    )
    decisions = pa.array(["link"] * len(links) + ["review"] * len(reviews), pa.string())
    return model_result(session, pa.concat_tables([links, reviews]).append_column("decision", decisions))
