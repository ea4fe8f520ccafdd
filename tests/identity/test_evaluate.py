"""Pairwise precision/recall arithmetic of the identity evaluation, on hand-counted examples."""

from kith.identity.evaluate import score_cells


def test_perfect_resolution() -> None:
    s = score_cells([("c1", "p1", 3), ("c2", "p2", 2)])
    assert (s["precision"], s["recall"]) == (1.0, 1.0)
    assert s["true_pairs"] == 3 + 1


def test_over_and_under_merging() -> None:
    # customer c1 holds 2 records of p1 and 1 of p2 (over-merged); p1 has one more record in c2
    s = score_cells([("c1", "p1", 2), ("c1", "p2", 1), ("c2", "p1", 1)])
    # predicted pairs: c1 has 3 records -> 3 pairs; c2 -> 0. correct: the p1 pair in c1 -> 1
    # true pairs: p1 has 3 records -> 3 pairs; p2 -> 0
    assert s["predicted_pairs"] == 3 and s["true_pairs"] == 3 and s["correct_pairs"] == 1
    assert s["precision"] == 1 / 3 and s["recall"] == 1 / 3
    assert s["over_merged_customers"] == 1 and s["under_merged_persons"] == 1


def test_singletons_have_no_pairs() -> None:
    s = score_cells([("c1", "p1", 1), ("c2", "p2", 1)])
    assert s["predicted_pairs"] == s["true_pairs"] == 0
    assert (s["precision"], s["recall"]) == (1.0, 1.0)
