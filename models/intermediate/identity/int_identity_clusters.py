"""Customers as clusters of identifiers: components split wherever a cap would be exceeded.

Only the over-merged components leave DuckDB (most of the graph is within its caps).
Logic and tests: kith/identity/caps.py, tests/identity/test_identity_logic.py.
"""

import pyarrow as pa

from kith.frames import model_result, relations
from kith.identity.caps import enforce_caps, over_cap_components


def model(dbt, session):
    dbt.config(materialized="table")
    relation = relations(session)  # the relation itself on DuckDB; on Spark a DataFrame with its methods
    rules = relation(dbt.ref("identity_rules")).filter("max_per_customer is not null").df()
    caps = dict(zip(rules["identifier_type"], rules["max_per_customer"].astype(int), strict=True))
    nodes = relation(dbt.ref("int_identity_nodes")).project("node_id, identifier_type, identifier_value")
    components = relation(dbt.ref("int_identity_components"))
    typed = nodes.join(components, "node_id").project("node_id, identifier_type, identifier_value, component_id")
    quoted = ", ".join("'" + str(t).replace("'", "''") + "'" for t in caps)  # rule values, quoted
    capped = typed.filter(f"identifier_type in ({quoted})").project("node_id, identifier_type, component_id").df()
    bad = over_cap_components(capped, caps).tolist()
    clusters = components.project("node_id, component_id, component_id as cluster_id")
    if not bad:
        return model_result(session, clusters)  # on Spark, stays a distributed DataFrame
    result = clusters.to_arrow_table()
    bad_list = ", ".join(str(c) for c in bad)
    sub_nodes = typed.filter(f"component_id in ({bad_list})").df()
    sub_links = (
        relation(dbt.ref("int_identity_links"))
        .join(components.project("node_id as node_id_a, component_id"), "node_id_a")
        .filter(f"component_id in ({bad_list})")
        .project("node_id_a, node_id_b, link_priority, first_seen_at")
        .df()
    )
    split = enforce_caps(sub_nodes, sub_links, caps)
    kept = components.filter(f"component_id not in ({bad_list})").project(
        "node_id, component_id, component_id as cluster_id"
    )
    split_table = pa.Table.from_pandas(split, preserve_index=False).cast(result.schema)
    return model_result(session, pa.concat_tables([kept.to_arrow_table(), split_table]))
