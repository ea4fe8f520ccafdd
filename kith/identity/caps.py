"""Splitting over-merged components: no customer may exceed an identifier type's cap.

Connected components can chain two people together through identifiers that each look fine on
their own (a card used by a couple, a cookie on a shared laptop). Inside every component that
holds more values of a capped type than one customer may have (two CRM ids, say), links are
accepted again from strongest to weakest (union-find); a link whose acceptance would push the
merged cluster over a cap is refused. Components within their caps are left untouched, so the
work is proportional to the over-merged part of the graph only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def over_cap_components(nodes: pd.DataFrame, caps: Mapping[str, int]) -> np.ndarray:
    """Component ids holding more values of some capped identifier type than its cap.

    ``nodes``: columns ``node_id``, ``identifier_type``, ``component_id``.
    """
    if nodes.empty or not caps:
        return np.empty(0, dtype=np.int64)
    capped = nodes[nodes["identifier_type"].isin(list(caps))]
    counts = capped.groupby(["component_id", "identifier_type"]).size().reset_index(name="n")
    counts["cap"] = counts["identifier_type"].map(caps)
    return np.sort(counts.loc[counts["n"] > counts["cap"], "component_id"].unique().astype(np.int64))


def enforce_caps(
    nodes: pd.DataFrame,
    links: pd.DataFrame,
    caps: Mapping[str, int],
) -> pd.DataFrame:
    """Cluster of every node after refusing links that would exceed a cap.

    ``nodes``: ``node_id``, ``identifier_type``, ``component_id`` (smallest node id of the
    component), and optionally ``identifier_value``. ``links``: ``node_id_a``, ``node_id_b``,
    ``link_priority`` (the weaker endpoint's priority; lower is stronger), ``first_seen_at``. Links
    are accepted strongest first, then oldest first, then by their endpoints, so the result is
    deterministic. Endpoints are ordered by (identifier_type, identifier_value) when the values are
    given, else by node id: the clusters then do not depend on how the nodes were numbered (a full
    build and an incremental one number them differently; DECISIONS.md, "Incremental identity").

    Returns ``node_id``, ``component_id``, ``cluster_id`` (smallest node id of the cluster; equal to
    ``component_id`` wherever no cap was exceeded).
    """
    result = nodes[["node_id", "component_id"]].copy()
    result["cluster_id"] = result["component_id"]
    bad = over_cap_components(nodes, caps)
    if len(bad) == 0:
        return result

    sub_nodes = nodes[nodes["component_id"].isin(bad)]
    in_bad = links["node_id_a"].isin(sub_nodes["node_id"])
    sub_links = links[in_bad].copy()
    if "identifier_value" in sub_nodes.columns:
        ordered = sub_nodes.sort_values(["identifier_type", "identifier_value"], kind="stable")["node_id"]
        rank = pd.Series(np.arange(len(ordered), dtype=np.int64), index=ordered.to_numpy())
        sub_links["endpoint_a"] = sub_links["node_id_a"].map(rank)
        sub_links["endpoint_b"] = sub_links["node_id_b"].map(rank)
    else:
        sub_links["endpoint_a"] = sub_links["node_id_a"]
        sub_links["endpoint_b"] = sub_links["node_id_b"]
    sub_links = sub_links.sort_values(["link_priority", "first_seen_at", "endpoint_a", "endpoint_b"], kind="stable")
    node_ids = sub_nodes["node_id"].to_numpy()
    index = {int(n): i for i, n in enumerate(node_ids)}
    parent = list(range(len(node_ids)))
    types = list(caps)
    type_index = {t: k for k, t in enumerate(types)}
    counts = np.zeros((len(node_ids), len(types)), dtype=np.int64)
    for i, t in enumerate(sub_nodes["identifier_type"].to_numpy()):
        if t in type_index:
            counts[i, type_index[t]] = 1
    limit = np.array([caps[t] for t in types], dtype=np.int64)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    for a, b in zip(sub_links["node_id_a"].to_numpy(), sub_links["node_id_b"].to_numpy(), strict=True):
        ra, rb = find(index[int(a)]), find(index[int(b)])
        if ra == rb:
            continue
        merged = counts[ra] + counts[rb]
        if np.any(merged > limit):
            continue  # refused: would give one customer too many values of a capped type
        small, large = (ra, rb) if ra < rb else (rb, ra)
        parent[large] = small
        counts[small] = merged

    roots = np.array([find(i) for i in range(len(node_ids))], dtype=np.int64)
    smallest = pd.Series(node_ids).groupby(roots).transform("min").to_numpy()
    cluster_of = dict(zip(node_ids.tolist(), smallest.tolist(), strict=True))
    mask = result["node_id"].isin(node_ids)
    result.loc[mask, "cluster_id"] = result.loc[mask, "node_id"].map(cluster_of).astype(np.int64)
    return result
