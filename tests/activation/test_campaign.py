"""``kith evaluate campaign``: treated versus control, checked against numbers worked out by hand.

Treated: 10 customers, 4 bought after the start (t01 twice), revenue 50 + 40 + 10 + 25 = 125.
Control: 8 customers, 1 bought (30). Orders before the start, cancelled orders and customers outside
the audience do not count.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from statistics import NormalDist, mean, variance

import duckdb
import pytest
from scipy.stats import t as student_t

from kith.cli import main
from kith.config import UserError
from pipelines.activation import state
from pipelines.activation.campaign import evaluate_campaign

SINCE = date(2026, 7, 1)
Z = NormalDist().inv_cdf(0.975)


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "kith.duckdb"
    with duckdb.connect(str(path)) as con:
        state.ensure_schema(con)
        treated = [f"t{i:02d}" for i in range(1, 11)]
        control = [f"k{i:02d}" for i in range(1, 9)]
        con.executemany(
            "insert into activation.audience_assignments values ('winback', ?, ?, 0.4, '2026-06-30 09:00')",
            [[c, "treatment"] for c in treated] + [[c, "control"] for c in control],
        )
        con.execute(
            """
            create schema marts;
            create table marts.fct_orders (
                order_id varchar, customer_id varchar, ordered_at timestamp,
                net_amount decimal(18, 2), is_cancelled boolean
            );
            insert into marts.fct_orders values
                ('o1', 't01', '2026-07-01 00:00', 30, false),
                ('o2', 't01', '2026-07-20 10:00', 20, false),
                ('o3', 't02', '2026-08-01 10:00', 40, false),
                ('o4', 't03', '2026-07-05 10:00', 10, false),
                ('o5', 't04', '2026-07-05 10:00', 0, true),     -- cancelled
                ('o6', 't05', '2026-06-30 23:59', 100, false),  -- before the start
                ('o7', 't06', '2026-09-01 10:00', 25, false),
                ('o8', 'k01', '2026-07-02 10:00', 30, false),
                ('o9', 'k02', '2026-05-01 10:00', 80, false),   -- before the start
                ('o10', 'x99', '2026-07-02 10:00', 500, false)  -- not in the audience
            """
        )
    return path


def wilson(successes: int, n: int) -> tuple[float, float]:
    p = successes / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / (1 + Z**2 / n)
    return centre - half, centre + half


def test_purchase_rate_and_revenue_differences_with_their_intervals(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        e = evaluate_campaign(con, "winback", SINCE)
    assert (e.treated.customers, e.treated.buyers, e.treated.revenue) == (10, 4, 125.0)
    assert (e.control.customers, e.control.buyers, e.control.revenue) == (8, 1, 30.0)
    p1, p2 = 4 / 10, 1 / 8
    assert e.purchase_rate_difference == pytest.approx(p1 - p2)
    # Newcombe's hybrid score interval from the two Wilson intervals
    (l1, u1), (l2, u2) = wilson(4, 10), wilson(1, 8)
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    assert e.purchase_rate_ci == pytest.approx((low, high))
    pooled = 5 / 18
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 10 + 1 / 8))
    assert e.purchase_rate_p_value == pytest.approx(2 * (1 - NormalDist().cdf(z)))
    # Welch: revenue per customer, non-buyers at 0
    treated = [50, 40, 10, 0, 0, 25, 0, 0, 0, 0]
    control = [30, 0, 0, 0, 0, 0, 0, 0]
    a, b = variance(treated) / 10, variance(control) / 8
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a**2 / 9 + b**2 / 7)
    diff = mean(treated) - mean(control)
    assert e.revenue_per_customer_difference == pytest.approx(8.75) == pytest.approx(diff)
    margin = student_t.ppf(0.975, df) * se
    assert e.revenue_per_customer_ci == pytest.approx((diff - margin, diff + margin))
    assert e.revenue_p_value == pytest.approx(2 * (1 - student_t.cdf(diff / se, df)))
    assert not e.worked  # 18 customers prove nothing: the interval includes zero
    assert low < 0 < high


def test_the_command_prints_and_writes_the_reports(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KITH_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("KITH_REPORTS", str(tmp_path / "reports"))
    assert main(["evaluate", "campaign", "aud_winback", "--since", "2026-07-01"]) == 0
    printed = capsys.readouterr().out
    assert "treated: 10 customers, 4 bought (40.00%)" in printed
    assert "control: 8 customers, 1 bought (12.50%)" in printed
    document = json.loads((tmp_path / "reports" / "campaign_winback.json").read_text())
    assert document["treated"]["buyers"] == 4 and document["worked"] is False
    assert (
        "| treated | 10 | 4 | 40.00% | 125.00 | 12.50 |" in (tmp_path / "reports" / "campaign_winback.md").read_text()
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "campaign", "winback"], "kith evaluate: error: --since DATE is required"),
        (["evaluate", "campaign", "lapsed", "--since", "2026-07-01"], "no customers were ever assigned for audience"),
    ],
)
def test_mistakes_are_one_line(
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("KITH_WAREHOUSE", str(warehouse))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_an_audience_without_a_control_group_cannot_be_evaluated(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update activation.audience_assignments set assignment_group = 'treatment'")
        with pytest.raises(UserError, match="has 0 control customer"):
            evaluate_campaign(con, "winback", SINCE)
