"""Connected components and cap enforcement on hand-built identity graphs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kith.identity.caps import enforce_caps, over_cap_components
from kith.identity.components import component_labels

CAPS = {"crm_id": 1, "email": 3}
PRIORITY = {"crm_id": 1, "email": 4, "card_token": 7, "cookie_id": 8}


def graph(types: list[str], edges: list[tuple[int, int]], first_seen: list[int] | None = None):
    """Nodes 0..n-1 of the given types; links with the weaker endpoint's priority."""
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    nodes = pd.DataFrame(
        {
            "node_id": np.arange(len(types)),
            "identifier_type": types,
            "component_id": component_labels(src, dst, len(types)),
        }
    )
    links = pd.DataFrame(
        {
            "node_id_a": src,
            "node_id_b": dst,
            "link_priority": [max(PRIORITY[types[a]], PRIORITY[types[b]]) for a, b in edges],
            "first_seen_at": first_seen or list(range(len(edges))),
        }
    )
    return nodes, links


def test_chain_joins_into_one_component() -> None:
    # A-B-C-D given out of order, plus an isolated node
    labels = component_labels(np.array([2, 0, 1]), np.array([3, 1, 2]), 5)
    assert labels.tolist() == [0, 0, 0, 0, 4]


def test_long_chain_and_labels_are_smallest_member() -> None:
    n = 10_000
    order = np.random.default_rng(3).permutation(n - 1)
    labels = component_labels(order, order + 1, n)
    assert set(labels.tolist()) == {0}
    labels = component_labels(np.array([7]), np.array([5]), 8)
    assert labels[7] == labels[5] == 5


def test_bad_edges_are_refused() -> None:
    with pytest.raises(ValueError, match="node ids"):
        component_labels(np.array([0]), np.array([3]), 3)


def test_card_shared_by_two_people_does_not_merge_them() -> None:
    # crm0 - email1 - card2 - email3 - crm4: a couple sharing a card
    types = ["crm_id", "email", "card_token", "email", "crm_id"]
    nodes, links = graph(types, [(0, 1), (1, 2), (2, 3), (3, 4)])
    assert over_cap_components(nodes, CAPS).tolist() == [0]
    result = enforce_caps(nodes, links, CAPS).set_index("node_id")["cluster_id"]
    assert result[0] == result[1]
    assert result[3] == result[4]
    assert result[0] != result[4]
    # the card joins the first person (its older link), never both
    assert result[2] in (result[0], result[4])
    assert result[2] == result[0]


def test_cap_on_emails_refuses_the_newest_extra_email() -> None:
    # one CRM contact seen with four emails; at most three per customer
    types = ["crm_id", "email", "email", "email", "email"]
    nodes, links = graph(types, [(0, 1), (0, 2), (0, 3), (0, 4)], first_seen=[1, 2, 3, 4])
    result = enforce_caps(nodes, links, CAPS).set_index("node_id")["cluster_id"]
    assert [result[i] for i in range(4)] == [0, 0, 0, 0]
    assert result[4] == 4


def test_components_within_caps_are_untouched() -> None:
    types = ["crm_id", "email", "cookie_id", "crm_id", "email"]
    nodes, links = graph(types, [(0, 1), (1, 2), (3, 4)])
    assert over_cap_components(nodes, CAPS).size == 0
    result = enforce_caps(nodes, links, CAPS)
    assert (result["cluster_id"] == result["component_id"]).all()
    assert result["cluster_id"].tolist() == [0, 0, 0, 3, 3]


def test_strong_links_win_over_weak_ones_regardless_of_age() -> None:
    # cookie5 links crm0's email1 (older) and crm3's email4 (newer); crm3-email4 link is old and strong
    types = ["crm_id", "email", "email", "crm_id", "email", "cookie_id"]
    edges = [(1, 5), (4, 5), (0, 1), (3, 4)]
    nodes, links = graph(types, edges, first_seen=[1, 2, 9, 9])
    result = enforce_caps(nodes, links, CAPS).set_index("node_id")["cluster_id"]
    assert result[0] == result[1] and result[3] == result[4]
    assert result[0] != result[3]
    assert result[5] == result[1]  # the cookie's older link stands
