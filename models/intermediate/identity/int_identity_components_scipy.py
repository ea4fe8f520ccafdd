"""Connected components of the identity graph with scipy (the default engine on DuckDB).

The links leave DuckDB as integer arrays (Arrow, no copies through Python objects), scipy labels
every node with the smallest node id of its component, and the labels go back as an Arrow table.
Logic and tests: kith/identity/components.py, tests/identity/.
"""

import pyarrow as pa

from kith.identity.components import component_labels


def model(dbt, session):
    dbt.config(materialized="table")
    links = dbt.ref("int_identity_links").project("node_id_a, node_id_b").fetchnumpy()
    # node ids are unique but not dense after incremental runs: ids no node holds are singletons that
    # int_identity_components never reads
    n_nodes = dbt.ref("int_identity_nodes").aggregate("coalesce(max(node_id) + 1, 0) as n").fetchall()[0][0]
    labels = component_labels(links["node_id_a"], links["node_id_b"], n_nodes)
    return pa.table({"node_id": pa.array(range(n_nodes), pa.int64()), "component_id": pa.array(labels, pa.int64())})
