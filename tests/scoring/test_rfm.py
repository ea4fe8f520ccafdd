"""RFM scores and segments on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kith.scoring import rfm


def frame(recency: list, frequency: list, monetary: list, ids: list | None = None) -> pd.DataFrame:
    ids = ids if ids is not None else [f"c{i:02d}" for i in range(len(recency))]
    return pd.DataFrame({"customer_id": ids, "recency_days": recency, "frequency": frequency, "monetary": monetary})


def test_ten_distinct_customers_fall_two_per_quintile() -> None:
    # recency 1..10 days: the two most recent score 5; frequency 10..1: the two highest score 5.
    customers = frame(list(range(1, 11)), list(range(10, 0, -1)), [5.0, 1, 2, 3, 4, 6, 7, 8, 9, 10])
    scored = rfm.score_rfm(customers)
    assert scored["recency_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scored["frequency_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # monetary order from lowest: c01(1) c02 c03 c04 c00(5) c05 ... c09(10)
    assert scored["monetary_score"].tolist() == [3, 1, 1, 2, 2, 3, 4, 4, 5, 5]
    assert scored["rfm_cell"].tolist()[:2] == ["553", "551"]
    assert scored["rfm_segment"].tolist() == [
        "champions",
        "champions",
        "loyal",
        "loyal",
        "potential_loyalists",
        "potential_loyalists",
        "hibernating",
        "hibernating",
        "lost",
        "lost",
    ]


def test_ordinal_ties_are_split_by_customer_id() -> None:
    # All ten frequencies equal: positions follow customer_id, so c00, c01 get 1 ... c08, c09 get 5.
    customers = frame([3] * 10, [2] * 10, [9.0] * 10)
    shuffled = customers.sample(frac=1.0, random_state=4)
    scored = rfm.score_rfm(shuffled).set_index("customer_id").sort_index()
    assert scored["frequency_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # recency ties too: lower customer_id gets the lower (worse) score
    assert scored["recency_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_scores_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(2)
    customers = frame(
        rng.integers(0, 30, 200).tolist(), rng.integers(1, 4, 200).tolist(), rng.gamma(2, 20, 200).tolist()
    )
    first = rfm.score_rfm(customers).set_index("customer_id").sort_index()
    again = rfm.score_rfm(customers.iloc[::-1]).set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(first, again)


def test_shared_ties_give_equal_values_equal_scores() -> None:
    # frequencies: six 1s, two 2s, one 3, one 5 (fewer than five distinct values)
    frequency = [1, 1, 1, 1, 1, 1, 2, 2, 3, 5]
    scores = rfm.quintile_scores(pd.Series(frequency), pd.Series(range(10)), ties="shared")
    # mean positions: 1s -> 2.5, 2s -> 6.5, 3 -> 8, 5 -> 9; score = 1 + floor(5 (pos + 0.5) / 10)
    # 1 + floor(1.5) = 2, 1 + floor(3.5) = 4, 1 + floor(4.25) = 5, 1 + floor(4.75) = 5
    assert scores.tolist() == [2, 2, 2, 2, 2, 2, 4, 4, 5, 5]


def test_all_equal_values_with_shared_ties_score_three() -> None:
    scores = rfm.quintile_scores(pd.Series([7.0] * 6), pd.Series(list("abcdef")), ties="shared")
    assert scores.tolist() == [3] * 6


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, [3]), (2, [2, 4]), (3, [1, 3, 5]), (4, [1, 2, 4, 5]), (5, [1, 2, 3, 4, 5]), (7, [1, 2, 2, 3, 4, 4, 5])],
)
def test_tiny_inputs_are_centred(n: int, expected: list[int]) -> None:
    # position i -> 1 + floor(5 (i + 0.5) / n); e.g. n = 7: 0.36, 1.07, 1.79, 2.5, 3.21, 3.93, 4.64
    scores = rfm.quintile_scores(pd.Series(range(n)), pd.Series(range(n)))
    assert scores.tolist() == expected


def test_empty_frame() -> None:
    scored = rfm.score_rfm(frame([], [], []))
    assert scored.empty
    assert list(scored.columns) == [
        "customer_id",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "rfm_cell",
        "rfm_segment",
    ]


@pytest.mark.parametrize(
    ("recency_score", "frequency_score", "segment"),
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "loyal"),
        (3, 4, "loyal"),
        (5, 2, "potential_loyalists"),
        (3, 3, "potential_loyalists"),
        (5, 1, "new"),
        (4, 1, "new"),
        (2, 3, "at_risk"),
        (1, 4, "at_risk"),
        (2, 5, "cannot_lose"),
        (1, 5, "cannot_lose"),
        (3, 1, "hibernating"),
        (2, 2, "hibernating"),
        (1, 1, "lost"),
        (1, 2, "lost"),
    ],
)
def test_segment_grid(recency_score: int, frequency_score: int, segment: str) -> None:
    assert rfm.rfm_segment(recency_score, frequency_score).tolist() == [segment]


def test_grid_covers_every_cell_and_uses_every_segment() -> None:
    r, f = np.meshgrid(np.arange(1, 6), np.arange(1, 6))
    segments = rfm.rfm_segment(r.ravel(), f.ravel())
    assert set(segments) == set(rfm.SEGMENTS)
    assert len(segments) == 25


def test_invalid_frames_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        rfm.score_rfm(frame([1, 2], [1, 1], [1.0, 2.0], ids=["a", "a"]))
    with pytest.raises(ValueError, match="missing column"):
        rfm.score_rfm(frame([1], [1], [1.0]).drop(columns="monetary"))
    with pytest.raises(ValueError, match="between 1 and 5"):
        rfm.rfm_segment(0, 3)
    with pytest.raises(ValueError, match="ties"):
        rfm.quintile_scores(pd.Series([1]), pd.Series([1]), ties="dense")  # type: ignore[arg-type]
