"""Co-purchase lift, recommendations, category affinity and category pairs on hand-computed examples.

Baskets used throughout (N = 5)::

    b1: A, B, C (A twice)     b2: A, B     b3: A, C     b4: B, D     b5: D

Item counts A = 3, B = 3, C = 2, D = 2; pair counts AB = 2, AC = 2, BC = 1, BD = 1 (AD, CD never).
lift(A, B) = 2 * 5 / (3 * 3) = 10/9, lift(A, C) = 2 * 5 / (3 * 2) = 5/3,
lift(B, C) = 1 * 5 / (3 * 2) = 5/6, lift(B, D) = 1 * 5 / (3 * 2) = 5/6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kith.scoring import recommend

BASKETS = pd.DataFrame(
    {
        "basket_id": ["b1", "b1", "b1", "b1", "b2", "b2", "b3", "b3", "b4", "b4", "b5"],
        "item_id": ["A", "B", "C", "A", "A", "B", "A", "C", "B", "D", "D"],
    }
)


def lift_of(pairs: pd.DataFrame, antecedent: str, consequent: str) -> pd.Series:
    return pairs.set_index(["antecedent", "consequent"]).loc[(antecedent, consequent)]


def test_pair_lift_by_hand() -> None:
    pairs = recommend.pair_lift(BASKETS)
    assert list(pairs.columns) == list(recommend.PAIR_COLUMNS)
    # both directions of AB, AC, BC, BD: 8 rows, sorted by antecedent then consequent
    assert list(zip(pairs["antecedent"], pairs["consequent"], strict=True)) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "A"),
        ("B", "C"),
        ("B", "D"),
        ("C", "A"),
        ("C", "B"),
        ("D", "B"),
    ]
    ab = lift_of(pairs, "A", "B")
    assert (ab["pair_count"], ab["antecedent_count"], ab["consequent_count"], ab["n_baskets"]) == (2, 3, 3, 5)
    assert ab["support"] == pytest.approx(2 / 5)
    assert ab["confidence"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx(10 / 9)
    ca = lift_of(pairs, "C", "A")
    assert ca["confidence"] == pytest.approx(1.0)  # every basket with C has A
    assert ca["lift"] == pytest.approx(5 / 3)
    assert lift_of(pairs, "A", "C")["confidence"] == pytest.approx(2 / 3)
    assert lift_of(pairs, "B", "D")["lift"] == pytest.approx(5 / 6)
    assert lift_of(pairs, "D", "B")["confidence"] == pytest.approx(1 / 2)


def test_pair_lift_minimum_support_and_count() -> None:
    by_count = recommend.pair_lift(BASKETS, min_pair_count=2)
    by_support = recommend.pair_lift(BASKETS, min_support=0.4)  # 2 of 5 baskets
    expected = [("A", "B"), ("A", "C"), ("B", "A"), ("C", "A")]
    assert list(zip(by_count["antecedent"], by_count["consequent"], strict=True)) == expected
    assert list(zip(by_support["antecedent"], by_support["consequent"], strict=True)) == expected
    assert recommend.pair_lift(BASKETS, min_support=0.41).empty


def test_pair_lift_is_the_same_in_small_item_blocks() -> None:
    pd.testing.assert_frame_equal(recommend.pair_lift(BASKETS), recommend.pair_lift(BASKETS, chunk_items=1))


def test_pair_lift_of_empty_baskets() -> None:
    pairs = recommend.pair_lift(BASKETS.iloc[0:0])
    assert pairs.empty and list(pairs.columns) == list(recommend.PAIR_COLUMNS)


PURCHASES = pd.DataFrame(
    {
        "customer_id": ["c1", "c2", "c2", "c3", "c4", "c4", "c4", "c4"],
        "item_id": ["A", "B", "C", "D", "A", "B", "C", "D"],
    }
)


def as_tuples(recommendations: pd.DataFrame) -> list[tuple]:
    return [
        (row.customer_id, row.item_id, round(row.score, 9), row.rank) for row in recommendations.itertuples(index=False)
    ]


def test_recommendations_by_hand() -> None:
    pairs = recommend.pair_lift(BASKETS)
    recommendations = recommend.recommend_items(PURCHASES, pairs)
    # Only lift > 1 counts: A<->B (10/9), A<->C (5/3).
    # c1 (A): C 5/3, then B 10/9. c2 (B, C): A = 10/9 + 5/3 = 25/9. c3 (D): nothing. c4: owns all.
    assert as_tuples(recommendations) == [
        ("c1", "C", round(5 / 3, 9), 1),
        ("c1", "B", round(10 / 9, 9), 2),
        ("c2", "A", round(25 / 9, 9), 1),
    ]


def test_recommendations_with_all_pairs_and_top_one() -> None:
    pairs = recommend.pair_lift(BASKETS)
    recommendations = recommend.recommend_items(PURCHASES, pairs, min_lift=0.0)
    # c2 (B, C): A = 10/9 + 5/3, D = lift(B, D) = 5/6. c3 (D): B = 5/6.
    assert as_tuples(recommendations) == [
        ("c1", "C", round(5 / 3, 9), 1),
        ("c1", "B", round(10 / 9, 9), 2),
        ("c2", "A", round(25 / 9, 9), 1),
        ("c2", "D", round(5 / 6, 9), 2),
        ("c3", "B", round(5 / 6, 9), 1),
    ]
    top_one = recommend.recommend_items(PURCHASES, pairs, min_lift=0.0, n=1)
    assert top_one["item_id"].tolist() == ["C", "A", "B"]


def test_out_of_stock_items_are_never_recommended() -> None:
    pairs = recommend.pair_lift(BASKETS)
    recommendations = recommend.recommend_items(PURCHASES, pairs, out_of_stock={"C"})
    assert as_tuples(recommendations) == [("c1", "B", round(10 / 9, 9), 1), ("c2", "A", round(25 / 9, 9), 1)]


def test_max_neighbours_keeps_the_strongest_pairs() -> None:
    pairs = recommend.pair_lift(BASKETS)
    recommendations = recommend.recommend_items(PURCHASES, pairs, max_neighbours=1)
    # A's best consequent is C (5/3 > 10/9); B's and C's best is A.
    assert as_tuples(recommendations) == [("c1", "C", round(5 / 3, 9), 1), ("c2", "A", round(25 / 9, 9), 1)]


def test_equal_scores_are_ranked_by_item_id_whatever_the_input_order() -> None:
    # x1: X, Z   x2: X, Y   x3: W  -> lift(X, Y) = lift(X, Z) = 1 * 3 / (2 * 1) = 1.5
    baskets = pd.DataFrame({"basket_id": ["x1", "x1", "x2", "x2", "x3"], "item_id": ["X", "Z", "X", "Y", "W"]})
    purchases = pd.DataFrame({"customer_id": ["k"], "item_id": ["X"]})
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]):
        pairs = recommend.pair_lift(baskets.iloc[order])
        recommendations = recommend.recommend_items(purchases, pairs)
        assert as_tuples(recommendations) == [("k", "Y", 1.5, 1), ("k", "Z", 1.5, 2)]


def test_chunked_recommendations_match() -> None:
    rng = np.random.default_rng(9)
    lines = pd.DataFrame({"customer_id": rng.integers(0, 300, 3000), "item_id": rng.integers(0, 40, 3000)})
    pairs = recommend.pair_lift(lines, basket_column="customer_id", min_pair_count=3)
    whole = recommend.recommend_items(lines, pairs, n=5)
    chunked = recommend.recommend_items(lines, pairs, n=5, chunk_customers=7)
    pd.testing.assert_frame_equal(whole, chunked)
    assert (whole.groupby("customer_id")["rank"].max() <= 5).all()
    owned = set(zip(lines["customer_id"], lines["item_id"], strict=True))
    assert not any((c, i) in owned for c, i in zip(whole["customer_id"], whole["item_id"], strict=True))


def test_category_affinity_by_hand() -> None:
    lines = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2", "c2", "c2", "c2", "c2"],
            "category": ["x", "x", "y", "x", "y", "z", "x", "x"],
            "spend": [20.0, 10.0, 10.0, 10.0, 10.0, -5.0, 5.0, -5.0],
        }
    )
    affinity = recommend.category_affinity(lines)
    # c1: x 30, y 10 (40); c2: x 10, y 10 (20), z -5 dropped. Population: x 40/60, y 20/60.
    assert affinity["customer_id"].tolist() == ["c1", "c1", "c2", "c2"]
    assert affinity["category"].tolist() == ["x", "y", "x", "y"]
    assert affinity["spend"].tolist() == [30.0, 10.0, 10.0, 10.0]
    assert affinity["spend_share"].to_numpy() == pytest.approx([0.75, 0.25, 0.5, 0.5])
    assert affinity["population_share"].to_numpy() == pytest.approx([2 / 3, 1 / 3, 2 / 3, 1 / 3])
    assert affinity["affinity_index"].to_numpy() == pytest.approx([1.125, 0.75, 0.75, 1.5])
    plain = recommend.category_affinity(lines, normalise=False)
    assert "affinity_index" not in plain.columns


def test_category_pair_summary_by_hand() -> None:
    # A, B -> p; C, D -> q. Baskets hold: b1 {p, q}, b2 {p}, b3 {p, q}, b4 {p, q}, b5 {q}.
    # count p = 4, q = 4, pq = 3; support 3/5, confidence 3/4, lift 3 * 5 / (4 * 4) = 15/16.
    categories = pd.DataFrame({"item_id": ["A", "B", "C", "D"], "category": ["p", "p", "q", "q"]})
    summary = recommend.category_pair_summary(BASKETS, categories)
    assert summary["antecedent"].tolist() == ["p", "q"]
    assert summary["consequent"].tolist() == ["q", "p"]
    assert summary["pair_count"].tolist() == [3, 3]
    assert summary["support"].to_numpy() == pytest.approx([0.6, 0.6])
    assert summary["confidence"].to_numpy() == pytest.approx([0.75, 0.75])
    assert summary["lift"].to_numpy() == pytest.approx([15 / 16, 15 / 16])
    inline = recommend.category_pair_summary(BASKETS.merge(categories, on="item_id"))
    pd.testing.assert_frame_equal(summary, inline)


def test_top_n_with_many_ties_matches_a_brute_force_ranking() -> None:
    # Lifts from a small set make ties common, also at the n-th place of long candidate lists.
    rng = np.random.default_rng(12)
    antecedent = rng.integers(0, 30, 600)
    consequent = rng.integers(0, 30, 600)
    pairs = pd.DataFrame({"antecedent": antecedent, "consequent": consequent, "lift": rng.choice([1.5, 2.0, 3.0], 600)})
    pairs = pairs[pairs["antecedent"] != pairs["consequent"]].drop_duplicates(["antecedent", "consequent"])
    purchases = pd.DataFrame({"customer_id": rng.integers(0, 80, 400), "item_id": rng.integers(0, 30, 400)})
    purchases = purchases.drop_duplicates()
    result = recommend.recommend_items(purchases, pairs, n=4)

    scores = (
        purchases.merge(pairs, left_on="item_id", right_on="antecedent")
        .groupby(["customer_id", "consequent"], as_index=False)["lift"]
        .sum()
        .rename(columns={"consequent": "candidate", "lift": "score"})
    )
    owned = set(zip(purchases["customer_id"], purchases["item_id"], strict=True))
    scores = scores[[(c, i) not in owned for c, i in zip(scores["customer_id"], scores["candidate"], strict=True)]]
    scores = scores.assign(score=scores["score"].round(9))
    expected = (
        scores.sort_values(["customer_id", "score", "candidate"], ascending=[True, False, True])
        .groupby("customer_id")
        .head(4)
    )
    assert result["customer_id"].tolist() == expected["customer_id"].tolist()
    assert result["item_id"].tolist() == expected["candidate"].tolist()
    assert result["score"].round(9).tolist() == expected["score"].tolist()
