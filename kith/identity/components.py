"""Connected components of the identity graph.

Nodes are dense integers ``0..n-1`` (``int_identity_nodes.node_id``); edges are pairs of node ids.
The component of a node is labelled by the smallest node id in it, so the labelling is
deterministic and identical to the portable SQL implementation (large-star/small-star, see
``macros/identity/connected_components.sql``).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def component_labels(src: np.ndarray, dst: np.ndarray, n_nodes: int) -> np.ndarray:
    """Return, for every node ``0..n_nodes-1``, the smallest node id of its component."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if src.shape != dst.shape:
        raise ValueError("src and dst must have the same length")
    if n_nodes == 0:
        return np.empty(0, dtype=np.int64)
    if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n_nodes):
        raise ValueError(f"edge endpoints must be node ids in 0..{n_nodes - 1}")
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes)).tocsr()
    _, raw = connected_components(graph, directed=False)
    # relabel each component by its smallest member: the first node (in id order) seen per label
    smallest = np.full(raw.max() + 1, n_nodes, dtype=np.int64)
    np.minimum.at(smallest, raw, np.arange(n_nodes, dtype=np.int64))
    return smallest[raw]
