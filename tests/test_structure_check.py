"""The structure check: each rule fires on a bad case and stays quiet on a good one.

Synthetic manifests hold only the keys the checker reads; one test runs it on the manifest of a
real `dbt parse` of a tiny temporary project, so the key paths are those of dbt 1.11.
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kith.checks import structure
from kith.checks.structure import check_manifest

SOURCE = "source.kith.crm.contacts"
STAGING = "model.kith.stg_crm__contacts"
INTERMEDIATE = "model.kith.int_contacts_linked"
MART = "model.kith.dim_customers"


def model(name: str, path: str, parents: list[str], access: str = "protected", **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "resource_type": "model",
        "package_name": "kith",
        "name": name,
        "original_file_path": f"models/{path}/{name}.sql",
        "depends_on": {"nodes": parents},
        "description": f"The {name} model.",
        "columns": {"customer_id": {"name": "customer_id", "description": "Customer key."}},
        "config": {"access": access, "contract": {"enforced": False}, "meta": {}},
        "constraints": [],
    }
    node.update(extra)
    return node


def generic_test(name: str, attached_node: str, column: str | None = None, **kwargs: Any) -> dict[str, Any]:
    if column:
        kwargs["column_name"] = column
    return {
        "resource_type": "test",
        "package_name": "kith",
        "name": f"{name}_{attached_node}_{column}",
        "attached_node": attached_node,
        "column_name": column,
        "depends_on": {"nodes": [attached_node]},
        "test_metadata": {"name": name, "kwargs": kwargs, "namespace": None},
    }


def good_manifest() -> dict[str, Any]:
    """A source, one staging, one intermediate and one public mart, all as the rules want."""
    mart = model("dim_customers", "marts/customers", [INTERMEDIATE], access="public")
    mart["config"]["contract"] = {"enforced": True}
    mart["constraints"] = [{"type": "primary_key", "columns": ["customer_id"]}]
    nodes = {
        STAGING: model("stg_crm__contacts", "staging/crm", [SOURCE]),
        INTERMEDIATE: model("int_contacts_linked", "intermediate/identity", [STAGING]),
        MART: mart,
        "test.kith.unique_stg": generic_test("unique", STAGING, "customer_id"),
        "test.kith.not_null_stg": generic_test("not_null", STAGING, "customer_id"),
        "test.kith.combination_int": generic_test(
            "unique_combination_of_columns", INTERMEDIATE, combination_of_columns=["customer_id", "source"]
        ),
    }
    sources = {
        SOURCE: {
            "resource_type": "source",
            "package_name": "kith",
            "source_name": "crm",
            "name": "contacts",
            "freshness": {"warn_after": {"count": 36, "period": "hour"}, "error_after": {"count": None}},
        }
    }
    return {"metadata": {"project_name": "kith"}, "nodes": nodes, "sources": sources}


def rules_fired(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v.rule, v.node) for v in check_manifest(manifest)}


def test_good_manifest_has_no_violations() -> None:
    assert check_manifest(good_manifest()) == []


def add_model(node_id: str, node: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        manifest["nodes"][node_id] = node
        manifest["nodes"][f"test.kith.combination_{node_id}"] = generic_test(
            "unique_combination_of_columns", node_id, combination_of_columns=["customer_id"]
        )

    return mutate


def set_path(node_id: str, path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        manifest["nodes"][node_id]["original_file_path"] = path

    return mutate


def rename(node_id: str, name: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        node = manifest["nodes"][node_id]
        node["name"] = name
        node["original_file_path"] = str(Path(node["original_file_path"]).with_name(f"{name}.sql"))

    return mutate


def add_parent(node_id: str, parent: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        manifest["nodes"][node_id]["depends_on"]["nodes"].append(parent)

    return mutate


def edit(node_id: str, change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        collection = "sources" if node_id.startswith("source.") else "nodes"
        change(manifest[collection][node_id])

    return mutate


def add_node(test_id: str, test: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        manifest["nodes"][test_id] = test

    return mutate


def chain(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(manifest)

    return mutate


def drop_test(test_id: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        del manifest["nodes"][test_id]

    return mutate


BAD_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], set[tuple[str, str]]]] = {
    "root model": (
        add_model(
            "model.kith.customers",
            model("customers", "", [INTERMEDIATE]) | {"original_file_path": "models/customers.sql"},
        ),
        {("model-root", "model.kith.customers")},
    ),
    "model outside the layers": (
        add_model("model.kith.dim_things", model("dim_things", "reporting/things", [INTERMEDIATE])),
        {("model-layer", "model.kith.dim_things")},
    ),
    "staging model without a system folder": (
        set_path(STAGING, "models/staging/stg_crm__contacts.sql"),
        {("model-layer", STAGING)},
    ),
    "mart without a domain folder": (
        set_path(MART, "models/marts/dim_customers.sql"),
        {("model-layer", MART)},
    ),
    "staging name without the double underscore": (
        rename(STAGING, "stg_crm_contacts"),
        {("model-naming", STAGING)},
    ),
    "staging name with another system than its folder": (
        rename(STAGING, "stg_shop__contacts"),
        {("model-naming", STAGING)},
    ),
    "staging entity not plural": (
        rename(STAGING, "stg_crm__contact"),
        {("model-naming", STAGING)},
    ),
    "intermediate name without int_": (
        rename(INTERMEDIATE, "contacts_linked"),
        {("model-naming", INTERMEDIATE)},
    ),
    "mart name without an allowed prefix": (
        rename(MART, "customers"),
        {("model-naming", MART)},
    ),
    "intermediate model reading a source": (
        edit(INTERMEDIATE, lambda n: n["depends_on"].update(nodes=[SOURCE])),
        {("source-outside-staging", INTERMEDIATE)},
    ),
    "staging model reading a source and a model": (
        add_parent(STAGING, "model.kith.stg_crm__accounts"),
        {("source-and-model-parents", STAGING)},
    ),
    "staging model reading an intermediate model": (
        edit(STAGING, lambda n: n["depends_on"].update(nodes=[INTERMEDIATE])),
        {("upward-reference", STAGING)},
    ),
    "intermediate model reading a mart": (
        add_parent(INTERMEDIATE, MART),
        {("upward-reference", INTERMEDIATE)},
    ),
    "model without description": (
        edit(INTERMEDIATE, lambda n: n.update(description="  ")),
        {("model-undocumented", INTERMEDIATE)},
    ),
    "declared column without description": (
        edit(STAGING, lambda n: n["columns"].update(email={"name": "email", "description": ""})),
        {("column-undocumented", STAGING)},
    ),
    "public model without declared columns": (
        edit(MART, lambda n: n.update(columns={})),
        {("public-columns-undeclared", MART)},
    ),
    "no primary-key test": (
        drop_test("test.kith.combination_int"),
        {("primary-key-missing", INTERMEDIATE)},
    ),
    "unique without not_null": (
        drop_test("test.kith.not_null_stg"),
        {("primary-key-missing", STAGING)},
    ),
    "unique and not_null on different columns": (
        edit("test.kith.not_null_stg", lambda n: n.update(column_name="email")),
        {("primary-key-missing", STAGING)},
    ),
    "primary_key constraint without an enforced contract": (
        edit(MART, lambda n: n["config"].update(access="protected", contract={"enforced": False})),
        {("primary-key-missing", MART)},
    ),
    "empty opt-out reason": (
        chain(
            drop_test("test.kith.combination_int"),
            edit(INTERMEDIATE, lambda n: n["config"].update(meta={"kith_no_primary_key": " "})),
        ),
        {("primary-key-missing", INTERMEDIATE)},
    ),
    "public model without contract": (
        chain(
            edit(MART, lambda n: n["config"].update(contract={"enforced": False})),
            add_node("test.kith.unique_mart", generic_test("unique", MART, "customer_id")),
            add_node("test.kith.not_null_mart", generic_test("not_null", MART, "customer_id")),
        ),
        {("public-contract", MART)},
    ),
    "source table without freshness": (
        edit(SOURCE, lambda s: s.update(freshness=None)),
        {("source-freshness", SOURCE)},
    ),
    "source opting out of freshness without a reason": (
        edit(SOURCE, lambda s: s.update(freshness=None, meta={"kith_no_freshness": "  "})),
        {("source-freshness", SOURCE)},
    ),
    "source freshness with empty thresholds": (
        edit(SOURCE, lambda s: s.update(freshness={"warn_after": {"count": None}, "error_after": {}})),
        {("source-freshness", SOURCE)},
    ),
}


@pytest.mark.parametrize("case", BAD_CASES, ids=list(BAD_CASES))
def test_rule_fires_on_bad_case(case: str) -> None:
    mutate, expected = BAD_CASES[case]
    manifest = good_manifest()
    mutate(manifest)
    assert rules_fired(manifest) == expected


def test_every_rule_has_a_bad_case() -> None:
    covered = {rule for _, expected in BAD_CASES.values() for rule, _ in expected}
    assert covered == set(structure.RULES)


GOOD_VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "opt-out with a reason replaces the primary-key test": chain(
        drop_test("test.kith.combination_int"),
        edit(INTERMEDIATE, lambda n: n["config"]["meta"].update(kith_no_primary_key="one row per event")),
    ),
    "opt-out in node meta (not config) also counts": chain(
        drop_test("test.kith.combination_int"),
        edit(INTERMEDIATE, lambda n: n.update(meta={"kith_no_primary_key": "append-only log"})),
    ),
    "column-level primary_key constraint on a contracted model": edit(
        MART,
        lambda n: (
            n.update(constraints=[]),
            n["columns"]["customer_id"].update(constraints=[{"type": "primary_key"}]),
        ),
    ),
    "unique + not_null column constraints on a contracted model": edit(
        MART,
        lambda n: (
            n.update(constraints=[]),
            n["columns"]["customer_id"].update(constraints=[{"type": "not_null"}, {"type": "unique"}]),
        ),
    ),
    "column_name only in the test kwargs": chain(
        edit("test.kith.unique_stg", lambda n: n.update(column_name=None)),
        edit("test.kith.not_null_stg", lambda n: n.update(column_name=None)),
    ),
    "source freshness only in config": edit(
        SOURCE,
        lambda s: s.update(freshness=None, config={"freshness": {"error_after": {"count": 7, "period": "day"}}}),
    ),
    "source opting out of freshness with a reason": edit(
        SOURCE, lambda s: s.update(freshness=None, config={"meta": {"kith_no_freshness": "quarantine table"}})
    ),
    "staging model in a deeper base folder": set_path(STAGING, "models/staging/crm/base/stg_crm__contacts.sql"),
    "staging system with underscores": chain(
        rename(STAGING, "stg_google_ads__campaigns"),
        set_path(STAGING, "models/staging/google_ads/stg_google_ads__campaigns.sql"),
    ),
    "audience mart": rename(MART, "aud_lapsed_buyers"),
    "mart referencing staging and intermediate": add_parent(MART, STAGING),
    "staging model reading a seed and its source": add_parent(STAGING, "seed.kith.country_codes"),
    "package models are not checked": add_node(
        "model.other.Bad", model("Bad", "", [SOURCE]) | {"package_name": "other", "description": ""}
    ),
}


@pytest.mark.parametrize("variant", GOOD_VARIANTS, ids=list(GOOD_VARIANTS))
def test_rule_quiet_on_good_variant(variant: str) -> None:
    manifest = good_manifest()
    GOOD_VARIANTS[variant](manifest)
    assert check_manifest(manifest) == []


def test_catalog_reveals_undeclared_public_columns() -> None:
    catalog = {"nodes": {MART: {"columns": {"CUSTOMER_ID": {}, "email": {}}}}}
    violations = check_manifest(good_manifest(), catalog)
    assert [(v.rule, v.node) for v in violations] == [("public-columns-undeclared", MART)]
    assert "email" in violations[0].message


def test_violation_line_names_rule_and_node() -> None:
    manifest = good_manifest()
    manifest["nodes"][INTERMEDIATE]["description"] = ""
    (violation,) = check_manifest(manifest)
    line = str(violation)
    assert line.startswith(f"model-undocumented {INTERMEDIATE}: ")
    assert "\n" not in line


def test_main_prints_violations_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = good_manifest()
    manifest["nodes"][MART]["config"]["contract"] = {"enforced": False}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert structure.main([str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # no contract: and so the primary_key constraint does not count
    assert {line.split()[0] for line in lines} == {"public-contract", "primary-key-missing"}

    path.write_text(json.dumps(good_manifest()))
    assert structure.main([str(path)]) == 0
    assert capsys.readouterr().out == ""
    assert structure.main([str(tmp_path / "missing.json")]) == 2


# --- a real dbt 1.11 manifest --------------------------------------------------------------------

TINY_PROJECT = {
    "dbt_project.yml": """\
        name: kith_structure
        version: "0.1.0"
        config-version: 2
        profile: kith_structure
        flags: {send_anonymous_usage_stats: false, partial_parse: false}
        models:
          kith_structure:
            marts: {+access: public}
        """,
    "models/staging/crm/_crm__sources.yml": """\
        version: 2
        sources:
          - name: crm
            config:
              loaded_at_field: loaded_at
              freshness: {warn_after: {count: 36, period: hour}}
            tables:
              - name: contacts
          - name: shop
            tables:
              - name: orders
                config:
                  loaded_at_field: loaded_at
                  freshness: {error_after: {count: 1, period: day}}
              - name: refunds
        """,
    "models/staging/crm/stg_crm__contacts.sql": "select * from {{ source('crm', 'contacts') }}\n",
    "models/staging/crm/_crm__models.yml": """\
        version: 2
        models:
          - name: stg_crm__contacts
            description: Contacts.
            columns:
              - name: customer_id
                description: Key.
                data_tests: [unique, not_null]
        """,
    "models/intermediate/identity/int_contacts_linked.sql": "select * from {{ ref('stg_crm__contacts') }}\n",
    "models/intermediate/identity/_identity__models.yml": """\
        version: 2
        models:
          - name: int_contacts_linked
            description: Linked contacts.
            data_tests:
              - unique_combination_of_columns:
                  arguments: {combination_of_columns: [customer_id]}
        """,
    "models/marts/customers/dim_customers.sql": (
        "select cast(customer_id as varchar) as customer_id from {{ ref('int_contacts_linked') }}\n"
    ),
    "models/marts/customers/fct_orders.sql": "select 1 as order_id from {{ source('shop', 'orders') }}\n",
    "models/marts/customers/_customers__models.yml": """\
        version: 2
        models:
          - name: dim_customers
            description: Customers.
            config:
              contract: {enforced: true}
            constraints:
              - type: primary_key
                columns: [customer_id]
            columns:
              - name: customer_id
                data_type: varchar
                description: Key.
          - name: fct_orders
            description: Orders.
            config:
              meta: {kith_no_primary_key: "one row per load"}
            columns:
              - name: order_id
                description: ""
        """,
    "models/customers.sql": "select 1 as customer_id\n",
}


def test_real_dbt_manifest(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    project = tmp_path / "kith_structure"
    for name, text in TINY_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(textwrap.dedent(text))
    (project / "tests" / "generic").mkdir(parents=True)
    for macro in (Path(__file__).parent / "generic").glob("*.sql"):
        (project / "tests" / "generic" / macro.name).write_text(macro.read_text())
    (project / "profiles.yml").write_text(
        "kith_structure:\n  target: t\n  outputs:\n"
        f"    t: {{type: duckdb, path: '{tmp_path / 'structure.duckdb'}', schema: main}}\n"
    )
    result = dbtRunner().invoke(
        ["parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(project / "target"), "--log-path", str(project / "logs")]
    )  # fmt: skip
    assert result.success, result.exception
    manifest = json.loads((project / "target" / "manifest.json").read_text())

    assert rules_fired(copy.deepcopy(manifest)) == {
        ("model-root", "model.kith_structure.customers"),
        ("model-undocumented", "model.kith_structure.customers"),
        ("primary-key-missing", "model.kith_structure.customers"),
        ("source-outside-staging", "model.kith_structure.fct_orders"),
        ("column-undocumented", "model.kith_structure.fct_orders"),
        ("public-contract", "model.kith_structure.fct_orders"),
        ("source-freshness", "source.kith_structure.shop.refunds"),
    }
