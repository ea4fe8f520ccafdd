"""The erasure's map of where a person's records are (kith/privacy/entities.py) covers every source
entity, and matches the staging views and identity rules it relies on: a new entity or a renamed
column fails here, not silently in an erasure."""

from __future__ import annotations

import csv
import re

import yaml

from kith.config import PROJECT_DIR
from kith.privacy.entities import NON_PERSONAL_ENTITIES, PERSONAL_ENTITIES
from pipelines.sources import SYSTEMS, entities
from tests.conftest import Sample
from tests.reliability.conftest import query


def test_every_source_entity_is_classified_once() -> None:
    personal = [(e.system, e.entity) for e in PERSONAL_ENTITIES]
    assert len(personal) == len(set(personal))
    assert not set(personal) & NON_PERSONAL_ENTITIES
    assert set(personal) | NON_PERSONAL_ENTITIES == {(s, e.name) for s in SYSTEMS for e in entities(s)}


def test_ties_use_identity_rule_types() -> None:
    with (PROJECT_DIR / "seeds" / "identity_rules.csv").open(newline="") as handle:
        rule_types = {row["identifier_type"] for row in csv.DictReader(handle)}
    for entity in PERSONAL_ENTITIES:
        assert entity.ties, entity
        assert {t for t, _ in entity.ties} <= rule_types, entity


def test_no_personal_data_is_declared_in_an_entity_the_erasure_skips() -> None:
    for path in (PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source.get("tables", []):
                flagged = [
                    c["name"]
                    for c in table.get("columns", [])
                    if (c.get("meta") or {}).get("contains_pii")
                    or ((c.get("config") or {}).get("meta") or {}).get("contains_pii")
                ]
                if flagged:
                    assert (source["name"], table["name"]) not in NON_PERSONAL_ENTITIES, (source["name"], flagged)


def test_each_staging_view_reads_its_raw_table_and_has_the_tie_columns(built_sample: Sample) -> None:
    for entity in PERSONAL_ENTITIES:
        rows = query(
            built_sample.warehouse,
            "select sql from duckdb_views() where schema_name = 'staging' and view_name = ?",
            [entity.staging],
        )
        assert rows, f"staging.{entity.staging} does not exist"
        assert re.search(rf'\braw_{entity.system}\.("?){entity.entity}\1(?![\w"])', rows[0][0]), entity.staging
        columns = {
            c
            for (c,) in query(
                built_sample.warehouse,
                "select column_name from information_schema.columns where table_schema = 'staging' and table_name = ?",
                [entity.staging],
            )
        }
        assert {c for _, c in entity.ties} | {"kith_file", "kith_line"} <= columns, entity.staging
