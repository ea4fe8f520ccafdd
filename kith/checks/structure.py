"""Project structure check: the rules the dbt project evaluator enforces, read from manifest.json.

Run after `dbt parse` (or any command that writes the manifest)::

    python -m kith.checks.structure target/manifest.json [--catalog target/catalog.json]

It prints one line per violation (`<rule id> <node>: <message>`) and exits 1 if there is any.

Layout (paths are relative to the model path, i.e. after `models/`):

- `staging/<system>/stg_<system>__<entity>s`: the folder names the source system, the entity is
  plural (ends in `s`). Deeper folders (`staging/<system>/base/`) are allowed.
- `intermediate/<domain>/int_<name>`.
- `marts/<domain>/<prefix><name>` with a prefix from `MART_PREFIXES`: `dim_` (dimensions), `fct_`
  (facts) and `aud_` (audiences, which are marts too, e.g. `marts/audiences/aud_lapsed_buyers`).

Rules (ids as printed):

- `model-root`: no model directly under `models/`.
- `model-layer`: every model sits in `staging/`, `intermediate/` or `marts/`, inside a
  `<system>`/`<domain>` folder.
- `model-naming`: the model name follows its layer's pattern above.
- `source-outside-staging`: only staging models call `source()`.
- `source-and-model-parents`: no model depends on both a source and a model or snapshot.
- `upward-reference`: data flows staging -> intermediate -> marts; staging must not ref
  intermediate or marts models, intermediate must not ref marts.
- `model-undocumented`: every model has a non-empty description.
- `column-undocumented`: every column declared in YAML has a non-empty description.
- `public-columns-undeclared`: a public model declares its columns (with a catalog, every column
  the relation really has must be declared).
- `primary-key-missing`: every model has a primary-key test: `unique` and `not_null` on one
  column, `unique_combination_of_columns`, or (with an enforced contract) a `primary_key`
  constraint or a column with `unique` and `not_null` constraints. Opt out with
  `meta: {kith_no_primary_key: "<reason>"}`.
- `public-contract`: public models have `contract: {enforced: true}`.
- `source-freshness`: every source table has a freshness (set on the source or on the table), unless
  it opts out with the reason in `meta: {kith_no_freshness: "<reason>"}` (e.g. a quarantine table that
  is empty when all is well).

Only nodes of the root project are checked (packages are someone else's structure).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

LAYERS = ("staging", "intermediate", "marts")
LAYER_ORDER = {layer: rank for rank, layer in enumerate(LAYERS)}
MART_PREFIXES = ("dim_", "fct_", "aud_")
NO_PRIMARY_KEY_META = "kith_no_primary_key"
NO_FRESHNESS_META = "kith_no_freshness"

STAGING_NAME = re.compile(r"^stg_(?P<system>[a-z0-9]+(?:_[a-z0-9]+)*)__(?P<entity>[a-z0-9_]*[a-z0-9]s)$")
INTERMEDIATE_NAME = re.compile(r"^int_[a-z0-9]+(?:_[a-z0-9]+)*$")
MART_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

RULES = {
    "model-root": "no model directly under models/",
    "model-layer": "models live in staging/<system>/, intermediate/<domain>/ or marts/<domain>/",
    "model-naming": "model names follow their layer (stg_<system>__<entity>s, int_*, dim_/fct_/aud_*)",
    "source-outside-staging": "only staging models reference sources",
    "source-and-model-parents": "no model depends on both a source and a model",
    "upward-reference": "no model references a model of a later layer",
    "model-undocumented": "every model has a description",
    "column-undocumented": "every declared column has a description",
    "public-columns-undeclared": "public models declare every column",
    "primary-key-missing": "every model has a primary-key test or constraint",
    "public-contract": "public models enforce their contract",
    "source-freshness": "every source table has a freshness",
}


@dataclass(frozen=True, order=True)
class Violation:
    """One broken rule: the rule id, the node's unique_id and a one-line reason."""

    node: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.node}: {self.message}"


@dataclass(frozen=True)
class _ModelPlace:
    """Where a model sits: its layer folder and the folders below it, relative to the model path."""

    folders: tuple[str, ...]

    @property
    def is_root(self) -> bool:
        return not self.folders

    @property
    def layer(self) -> str | None:
        return self.folders[0] if self.folders and self.folders[0] in LAYERS else None

    @property
    def group_folder(self) -> str | None:
        """The <system> (staging) or <domain> (intermediate, marts) folder."""
        return self.folders[1] if self.layer and len(self.folders) >= 2 else None


def _model_place(node: Mapping[str, Any]) -> _ModelPlace:
    path = str(node.get("original_file_path") or node.get("path") or "").replace("\\", "/")
    parts = PurePosixPath(path).parts
    if node.get("original_file_path"):
        parts = parts[1:]  # drop the model path itself ("models")
    return _ModelPlace(folders=tuple(parts[:-1]))


def _config(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return node.get("config") or {}


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(node.get("meta") or {}), **(_config(node).get("meta") or {})}


def _access(node: Mapping[str, Any]) -> str:
    return str(_config(node).get("access") or node.get("access") or "protected")


def _contract_enforced(node: Mapping[str, Any]) -> bool:
    contract = _config(node).get("contract") or node.get("contract") or {}
    return bool(contract.get("enforced"))


def _has_freshness(source: Mapping[str, Any]) -> bool:
    for freshness in (source.get("freshness"), _config(source).get("freshness")):
        if not isinstance(freshness, Mapping):
            continue
        for threshold in ("warn_after", "error_after"):
            if (freshness.get(threshold) or {}).get("count") not in (None, "", 0):
                return True
    return False


def _parents(node: Mapping[str, Any]) -> list[str]:
    return list((node.get("depends_on") or {}).get("nodes") or [])


def _test_target(test: Mapping[str, Any]) -> str | None:
    if test.get("attached_node"):
        return str(test["attached_node"])
    parents = [p for p in _parents(test) if p.startswith("model.")]
    return parents[0] if len(parents) == 1 else None


def _primary_key_tested(test_nodes: Iterable[Mapping[str, Any]]) -> bool:
    """True if these generic tests (all on one model) include a primary-key test."""
    tests_by_column: dict[str, set[str]] = {}
    for test in test_nodes:
        metadata = test.get("test_metadata") or {}
        name = metadata.get("name")
        if name == "unique_combination_of_columns":
            return True
        column = test.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")
        if name in ("unique", "not_null") and column:
            tests_by_column.setdefault(str(column).strip('"`').lower(), set()).add(name)
    return any(names == {"unique", "not_null"} for names in tests_by_column.values())


def _primary_key_constrained(model: Mapping[str, Any]) -> bool:
    if not _contract_enforced(model):
        return False  # dbt only applies constraints to contracted models
    if any(c.get("type") == "primary_key" for c in model.get("constraints") or []):
        return True
    for column in (model.get("columns") or {}).values():
        types = {c.get("type") for c in column.get("constraints") or []}
        if "primary_key" in types or {"unique", "not_null"} <= types:
            return True
    return False


def _check_place_and_name(uid: str, name: str, place: _ModelPlace) -> list[Violation]:
    if place.is_root:
        return [Violation(uid, "model-root", f"model {name} sits directly under models/; move it into a layer")]
    if place.layer is None:
        return [
            Violation(
                uid,
                "model-layer",
                f"model {name} is in models/{'/'.join(place.folders)}/, not in {', '.join(LAYERS)}",
            )
        ]
    if place.group_folder is None:
        kind = "<system>" if place.layer == "staging" else "<domain>"
        return [Violation(uid, "model-layer", f"model {name} must sit in models/{place.layer}/{kind}/")]

    if place.layer == "staging":
        match = STAGING_NAME.match(name)
        if match is None or match["system"] != place.group_folder:
            expected = f"stg_{place.group_folder}__<entity>s"
            return [Violation(uid, "model-naming", f"staging model {name} must be named {expected}")]
    elif place.layer == "intermediate":
        if not INTERMEDIATE_NAME.match(name):
            return [Violation(uid, "model-naming", f"intermediate model {name} must be named int_<name>")]
    elif not (name.startswith(MART_PREFIXES) and MART_NAME.match(name)):
        prefixes = "/".join(MART_PREFIXES)
        return [Violation(uid, "model-naming", f"mart {name} must be named with a prefix {prefixes}")]
    return []


def _check_lineage(
    uid: str, name: str, place: _ModelPlace, model: Mapping[str, Any], places: Mapping[str, _ModelPlace]
) -> list[Violation]:
    violations = []
    parents = _parents(model)
    sources = [p for p in parents if p.startswith("source.")]
    models = [p for p in parents if p.startswith(("model.", "snapshot."))]
    if sources and place.layer != "staging":
        violations.append(
            Violation(uid, "source-outside-staging", f"model {name} reads a source but is not a staging model")
        )
    if sources and models:
        violations.append(
            Violation(
                uid,
                "source-and-model-parents",
                f"model {name} depends on both a source and a model; stage the source first",
            )
        )
    if place.layer is not None:
        later = sorted(
            parent
            for parent in models
            if parent in places
            and places[parent].layer is not None
            and LAYER_ORDER[places[parent].layer] > LAYER_ORDER[place.layer]
        )
        for parent in later:
            violations.append(
                Violation(
                    uid,
                    "upward-reference",
                    f"{place.layer} model {name} references {places[parent].layer} model {parent}",
                )
            )
    return violations


def _check_documentation(
    uid: str, name: str, model: Mapping[str, Any], catalog: Mapping[str, Any] | None
) -> list[Violation]:
    violations = []
    if not str(model.get("description") or "").strip():
        violations.append(Violation(uid, "model-undocumented", f"model {name} has no description"))
    columns = model.get("columns") or {}
    for column_name, column in columns.items():
        if not str(column.get("description") or "").strip():
            violations.append(
                Violation(uid, "column-undocumented", f"column {column_name} of model {name} has no description")
            )
    if _access(model) == "public":
        declared = {str(c).lower() for c in columns}
        if not declared:
            violations.append(Violation(uid, "public-columns-undeclared", f"public model {name} declares no columns"))
        elif catalog is not None and uid in (catalog.get("nodes") or {}):
            actual = {str(c).lower() for c in (catalog["nodes"][uid].get("columns") or {})}
            missing = sorted(actual - declared)
            if missing:
                violations.append(
                    Violation(
                        uid,
                        "public-columns-undeclared",
                        f"public model {name} does not declare columns {', '.join(missing)}",
                    )
                )
    return violations


def check_manifest(manifest: Mapping[str, Any], catalog: Mapping[str, Any] | None = None) -> list[Violation]:
    """Check a dbt manifest (parsed manifest.json) and return the violations, sorted by node."""
    project = (manifest.get("metadata") or {}).get("project_name")
    nodes: Mapping[str, Mapping[str, Any]] = manifest.get("nodes") or {}

    def own(node: Mapping[str, Any]) -> bool:
        return project is None or node.get("package_name") in (None, project)

    models = {uid: n for uid, n in nodes.items() if n.get("resource_type") == "model" and own(n)}
    places = {uid: _model_place(n) for uid, n in nodes.items() if n.get("resource_type") == "model"}
    tests_by_model: dict[str, list[Mapping[str, Any]]] = {}
    for test in nodes.values():
        if test.get("resource_type") == "test" and test.get("test_metadata"):
            target = _test_target(test)
            if target:
                tests_by_model.setdefault(target, []).append(test)

    violations: list[Violation] = []
    for uid, model in models.items():
        name = str(model.get("name") or uid.rsplit(".", 1)[-1])
        place = places[uid]
        violations += _check_place_and_name(uid, name, place)
        violations += _check_lineage(uid, name, place, model, places)
        violations += _check_documentation(uid, name, model, catalog)

        opt_out = str(_meta(model).get(NO_PRIMARY_KEY_META) or "").strip()
        if not opt_out and not (_primary_key_tested(tests_by_model.get(uid, [])) or _primary_key_constrained(model)):
            violations.append(
                Violation(
                    uid,
                    "primary-key-missing",
                    f"model {name} has no primary-key test (unique + not_null, "
                    f"unique_combination_of_columns or a primary_key constraint); "
                    f"or set meta.{NO_PRIMARY_KEY_META} to the reason",
                )
            )
        if _access(model) == "public" and not _contract_enforced(model):
            violations.append(Violation(uid, "public-contract", f"public model {name} does not enforce its contract"))

    for uid, source in (manifest.get("sources") or {}).items():
        opted_out = str(_meta(source).get(NO_FRESHNESS_META) or "").strip()
        if own(source) and not _has_freshness(source) and not opted_out:
            label = f"{source.get('source_name', '?')}.{source.get('name', '?')}"
            violations.append(
                Violation(
                    uid,
                    "source-freshness",
                    f"source table {label} has no freshness (warn_after/error_after); "
                    f"or set meta.{NO_FRESHNESS_META} to the reason",
                )
            )
    return sorted(violations)


def main(argv: list[str] | None = None) -> int:
    """Command line: check a manifest, print the violations, return 1 if any (2 if unreadable)."""
    parser = argparse.ArgumentParser(
        prog="python -m kith.checks.structure",
        description="Check the dbt project's structure (layers, names, docs, keys, contracts, freshness).",
    )
    parser.add_argument("manifest", type=Path, nargs="?", default=Path("target/manifest.json"))
    parser.add_argument(
        "--catalog", type=Path, help="catalog.json from `dbt docs generate`: checks public models' real columns"
    )
    args = parser.parse_args(argv)
    try:
        manifest = json.loads(args.manifest.read_text())
        catalog = json.loads(args.catalog.read_text()) if args.catalog else None
    except (OSError, json.JSONDecodeError) as error:
        print(f"structure check: cannot read dbt artefact: {error}", file=sys.stderr)
        return 2
    violations = check_manifest(manifest, catalog)
    for violation in violations:
        print(violation)
    n_models = sum(1 for n in (manifest.get("nodes") or {}).values() if n.get("resource_type") == "model")
    print(f"structure check: {len(violations)} violation(s) in {n_models} model(s)", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
