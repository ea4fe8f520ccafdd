"""RFM quintile scores and segment names.

Scores
------
Each of recency, frequency and monetary value gets a score from 1 to 5; a high score is good:
R = 5 for the most *recent* customers (smallest ``recency_days``), F = 5 and M = 5 for the largest
values. Customers are ordered by value and, for equal values, by ``customer_id`` ascending (so the
order, and therefore the scores, never depend on the input row order). With 0-based position i in
that order (worst to best) among n customers::

    score = 1 + floor(5 * (i + 0.5) / n)

This is ``ntile(5)`` when n is a multiple of 5; otherwise bucket sizes differ by at most one and
are placed symmetrically, and tiny inputs stay centred (one customer scores 3, two score 2 and 4).
It never fails on repeated values or on fewer than five distinct values.

``ties="ordinal"`` (default) uses the position above, so equal values may straddle a bucket edge
and get different scores, decided by ``customer_id``: buckets stay equal-sized. ``ties="shared"``
gives every customer in a group of equal values the score of the group's mean position: equal
values always score equally, buckets are then unequal and some scores may be unused (e.g. when
60% of customers bought once, they all get F = 2).

Segments
--------
Segments follow the common 2-D recency x frequency grid (M is reported but not used)::

    R \\ F    1            2                    3                    4          5
    5        new          potential_loyalists  potential_loyalists  champions  champions
    4        new          potential_loyalists  potential_loyalists  loyal      loyal
    3        hibernating  hibernating          potential_loyalists  loyal      loyal
    2        hibernating  hibernating          at_risk              at_risk    cannot_lose
    1        lost         lost                 at_risk              at_risk    cannot_lose

i.e. champions bought recently and often; loyal buy often and fairly recently; potential
loyalists are recent with middling frequency; new bought recently but once or rarely; at risk
used to buy fairly often but not lately; cannot lose were among the most frequent and have gone
quiet; hibernating are low on both; lost are the least recent, least frequent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)

# SEGMENT_GRID[recency_score][frequency_score - 1]
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("new", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("hibernating", "hibernating", "potential_loyalists", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cannot_lose"),
}

REQUIRED_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary")


def quintile_scores(
    values: pd.Series,
    customer_ids: pd.Series,
    *,
    higher_is_better: bool = True,
    ties: Literal["ordinal", "shared"] = "ordinal",
) -> np.ndarray:
    """Score ``values`` 1-5 by position (rules in the module docstring); returns int8 scores in input order.

    Args:
        values: numeric values, no missing values.
        customer_ids: tie-breaker, aligned with ``values`` (any sortable type, unique).
        higher_is_better: ``False`` for recency in days (smaller is better, scores 5).
        ties: ``"ordinal"`` (equal-sized buckets, ties split by ``customer_id``) or ``"shared"``.
    """
    if ties not in ("ordinal", "shared"):
        raise ValueError(f"ties must be 'ordinal' or 'shared', got {ties!r}")
    numeric = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="raise").astype(float)
    if numeric.isna().any():
        raise ValueError("values have missing entries")
    n = len(numeric)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    key = numeric if higher_is_better else -numeric
    frame = pd.DataFrame({"key": key.to_numpy(), "customer_id": pd.Series(customer_ids).to_numpy()})
    order = frame.sort_values(["key", "customer_id"], kind="mergesort").index.to_numpy()
    position = np.empty(n, dtype=float)
    position[order] = np.arange(n, dtype=float)
    if ties == "shared":
        position = pd.Series(position).groupby(frame["key"].to_numpy()).transform("mean").to_numpy()
    scores = 1 + np.floor(5 * (position + 0.5) / n)
    return np.clip(scores, 1, 5).astype(np.int8)


def rfm_segment(
    recency_score: int | np.ndarray | pd.Series,
    frequency_score: int | np.ndarray | pd.Series,
    grid: Mapping[int, tuple[str, ...]] = SEGMENT_GRID,
) -> np.ndarray:
    """Segment name for each (R, F) score pair from the grid in the module docstring (or a custom one)."""
    r = np.atleast_1d(np.asarray(recency_score, dtype=int))
    f = np.atleast_1d(np.asarray(frequency_score, dtype=int))
    if r.shape != f.shape:
        raise ValueError("recency_score and frequency_score must have the same length")
    if np.any((r < 1) | (r > 5) | (f < 1) | (f > 5)):
        raise ValueError("scores must be between 1 and 5")
    table = np.array([list(grid[score]) for score in range(1, 6)], dtype=object)
    return table[r - 1, f - 1]


def score_rfm(customers: pd.DataFrame, *, ties: Literal["ordinal", "shared"] = "ordinal") -> pd.DataFrame:
    """RFM scores and segment per customer.

    Args:
        customers: one row per customer with ``customer_id`` (unique), ``recency_days`` (days
            since the last purchase), ``frequency`` (purchases) and ``monetary`` (spend).
        ties: see the module docstring.

    Returns:
        ``customer_id, recency_score, frequency_score, monetary_score, rfm_cell`` (e.g. ``"545"``)
        and ``rfm_segment``, in the input row order.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in customers.columns]
    if missing:
        raise ValueError(f"customers frame is missing column(s): {', '.join(missing)}")
    if customers["customer_id"].isna().any():
        raise ValueError("customer_id has missing values")
    if customers["customer_id"].duplicated().any():
        raise ValueError("customer_id must be unique (one row per customer)")
    ids = customers["customer_id"]
    recency = quintile_scores(customers["recency_days"], ids, higher_is_better=False, ties=ties)
    frequency = quintile_scores(customers["frequency"], ids, ties=ties)
    monetary = quintile_scores(customers["monetary"], ids, ties=ties)
    cell = pd.Series(recency.astype(str)).str.cat([frequency.astype(str), monetary.astype(str)])
    return pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "recency_score": recency,
            "frequency_score": frequency,
            "monetary_score": monetary,
            "rfm_cell": cell.to_numpy(),
            "rfm_segment": rfm_segment(recency, frequency),
        }
    )
