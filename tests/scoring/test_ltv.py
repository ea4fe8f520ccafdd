"""BG/NBD and Gamma-Gamma: formulas against independent computations, simulations, edge cases and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from kith.scoring import ltv
from kith.scoring.ltv import InsufficientDataError

TRUE = {"r": 0.6, "alpha": 8.0, "a": 0.8, "b": 2.5}


def simulate_bgnbd(params: dict[str, float], ages: np.ndarray, holdout: float, seed: int) -> dict[str, np.ndarray]:
    """Draw customers from the BG/NBD story: x = min(N(T), J) with N Poisson(lambda t) and J ~ Geometric(p).

    J is the repeat purchase after which the customer drops out; given N(T) = n purchases, their
    times are uniform order statistics, so t_x = T * Beta(x, n - x + 1).
    """
    rng = np.random.default_rng(seed)
    n = ages.size
    rate = rng.gamma(params["r"], 1 / params["alpha"], n)
    dropout = rng.beta(params["a"], params["b"], n)
    last = rng.geometric(dropout)
    by_age = rng.poisson(rate * ages)
    x = np.minimum(by_age, last)
    t_x = np.where(x > 0, ages * rng.beta(np.maximum(x, 1), by_age - x + 1), 0.0)
    by_end = by_age + rng.poisson(rate * holdout)
    return {
        "x": x.astype(float),
        "t_x": t_x,
        "T": ages,
        "alive": (by_age < last).astype(float),
        "holdout": (np.minimum(by_end, last) - x).astype(float),
    }


@pytest.fixture(scope="module")
def simulated() -> dict[str, np.ndarray]:
    ages = np.random.default_rng(0).uniform(20, 60, 200_000)
    return simulate_bgnbd(TRUE, ages, holdout=30.0, seed=1)


# --- formulas ---------------------------------------------------------------------------------


def test_probability_alive_is_the_alive_share_of_the_likelihood() -> None:
    # FHL 2005: L = A1 (A2 + A3); A1 A2 is "still alive at T", A1 A3 "dropped out after t_x".
    r, alpha, a, b = TRUE.values()
    x = np.array([1.0, 2.0, 7.0, 30.0])
    t_x = np.array([3.0, 20.0, 25.0, 39.0])
    big_t = np.array([40.0, 40.0, 52.0, 40.0])
    log_a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + big_t)
    log_a3 = special.betaln(a + 1, b + x - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    expected = 1 / (1 + np.exp(log_a3 - log_a2))
    assert ltv.bgnbd_probability_alive(TRUE, x, t_x, big_t) == pytest.approx(expected, rel=1e-12)


def test_probability_alive_is_one_without_repeat_purchases() -> None:
    # In BG/NBD dropout can only follow a repeat purchase, so x = 0 customers are certainly alive.
    alive = ltv.bgnbd_probability_alive(TRUE, [0, 0, 0], [0, 0, 0], [1.0, 50.0, 5000.0])
    assert np.array_equal(alive, np.ones(3))


def test_log_likelihood_drops_the_dropout_term_exactly_for_x_zero() -> None:
    r, alpha = TRUE["r"], TRUE["alpha"]
    big_t = np.array([5.0, 40.0])
    by_hand = r * np.log(alpha / (alpha + big_t))  # P(no purchase in T) while alive; B(a, b + 0)/B(a, b) = 1
    assert ltv.bgnbd_log_likelihood(TRUE, [0, 0], [0, 0], big_t) == pytest.approx(by_hand, rel=1e-12)


def test_population_expectation_matches_simulation(simulated: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(7)
    n, t = 400_000, 30.0
    rate = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    last = rng.geometric(rng.beta(TRUE["a"], TRUE["b"], n))
    simulated_mean = np.minimum(rng.poisson(rate * t), last).mean()
    assert ltv.bgnbd_population_expected_purchases(TRUE, [t])[0] == pytest.approx(simulated_mean, rel=0.02)


def test_probability_alive_matches_simulation(simulated: dict[str, np.ndarray]) -> None:
    predicted = ltv.bgnbd_probability_alive(TRUE, simulated["x"], simulated["t_x"], simulated["T"])
    groups = np.minimum(simulated["x"], 4)
    for group in range(1, 5):
        mask = groups == group
        assert predicted[mask].mean() == pytest.approx(simulated["alive"][mask].mean(), abs=0.01), group


def test_conditional_expectation_matches_simulation(simulated: dict[str, np.ndarray]) -> None:
    predicted = ltv.bgnbd_expected_purchases(TRUE, 30.0, simulated["x"], simulated["t_x"], simulated["T"])
    groups = np.minimum(simulated["x"], 4)
    for group in range(5):
        mask = groups == group
        assert predicted[mask].mean() == pytest.approx(simulated["holdout"][mask].mean(), rel=0.04), group


def test_conditional_expectation_at_zero_age_is_the_population_expectation() -> None:
    t = np.array([1.0, 10.0, 100.0])
    conditional = ltv.bgnbd_expected_purchases(TRUE, t, [0, 0, 0], [0, 0, 0], [0, 0, 0])
    assert conditional == pytest.approx(ltv.bgnbd_population_expected_purchases(TRUE, t), rel=1e-9)


def test_expected_purchases_grow_with_the_horizon_and_are_zero_at_zero() -> None:
    horizons = np.array([0.0, 1.0, 30.0, 90.0, 365.0, 3650.0])
    values = ltv.bgnbd_expected_purchases(TRUE, horizons, [3] * 6, [20.0] * 6, [40.0] * 6)
    assert values[0] == 0
    assert np.all(np.diff(values) > 0)


def test_removable_singularity_at_a_equal_one_is_smooth() -> None:
    values = [
        ltv.bgnbd_expected_purchases(dict(TRUE, a=a), 39.0, [0, 2], [0, 30.0], [39.0, 39.0])
        for a in (0.999, 0.99995, 1.0, 1.00005, 1.001)
    ]
    values = np.array(values)
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values[:, 1]) < 0)  # monotone in a through a = 1
    assert values[2] == pytest.approx((values[0] + values[4]) / 2, rel=1e-4)


def test_series_fallback_agrees_with_scipy() -> None:
    a = np.array([-0.2, -0.9, 0.5, 1.5, 2.0])
    b = np.array([2.0, 3.0, 3.0, 0.3, 4.0])
    c = np.array([3.0, 600.0, 10.0, 2.0, 7.5])
    z = np.array([0.3, 0.999, 0.9, 0.99, 0.5])
    assert ltv.hyp2f1_series(a, b, c, z) == pytest.approx(special.hyp2f1(a, b, c, z), rel=1e-10)


def test_expectation_falls_back_to_the_series_when_scipy_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    x, t_x, big_t = [0.0, 2.0, 40.0], [0.0, 30.0, 38.0], [39.0, 39.0, 39.0]
    reference = ltv.bgnbd_expected_purchases(TRUE, 52.0, x, t_x, big_t)
    monkeypatch.setattr(ltv.special, "hyp2f1", lambda a, b, c, z: np.full(np.shape(z), np.nan))
    assert ltv.bgnbd_expected_purchases(TRUE, 52.0, x, t_x, big_t) == pytest.approx(reference, rel=1e-10)


# --- robustness ---------------------------------------------------------------------------------


def _expectation_without_repeat_by_integral(params: dict[str, float], t: float, age: float) -> float:
    """E[Y(t) | x = 0, T] by quadrature: alive at T, lambda ~ Gamma(r, alpha + T), p ~ Beta(a, b), and
    E[Y(t) | lambda, p] = (1 - exp(-lambda p t)) / p, integrated over lambda in closed form."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))

    def given_p(p: float) -> float:
        if p == 0:
            return r * t / (alpha + age)
        return -np.expm1(r * (np.log(alpha + age) - np.log(alpha + age + p * t))) / p

    value = integrate.quad(given_p, 0, 1, weight="alg", wvar=(a - 1, b - 1), limit=200)[0]
    return value / np.exp(special.betaln(a, b))


@pytest.mark.parametrize(
    "params",
    [
        TRUE,
        # a + b < 1: the 2F1 of the expectation has a negative third parameter at x = 0 and takes
        # negative values (this fit came from the 300-customer sample; it gave NaN before)
        {"r": 0.715148484658717, "alpha": 44.315310051186614, "a": 0.019408441728338006, "b": 0.2871888289260761},
        {"r": 0.7, "alpha": 40.0, "a": 0.3, "b": 0.5},
    ],
    ids=["true", "tiny_a_and_b", "a_plus_b_below_one"],
)
def test_expectation_without_repeat_matches_quadrature(params: dict[str, float]) -> None:
    ages = [6.0, 40.0, 200.0]
    expected = [_expectation_without_repeat_by_integral(params, 90.0, age) for age in ages]
    got = ltv.bgnbd_expected_purchases(params, 90.0, [0, 0, 0], [0, 0, 0], ages)
    assert got == pytest.approx(expected, rel=1e-9)


def test_extreme_customers_give_finite_outputs() -> None:
    x = np.array([500.0, 500.0, 10_000.0, 0.0, 1.0])
    t_x = np.array([4999.0, 10.0, 5000.0, 0.0, 4999.0])
    big_t = np.array([5000.0, 5000.0, 5000.0, 5000.0, 5000.0])
    for t in (90.0, 365.0, 1e6):
        expected = ltv.bgnbd_expected_purchases(TRUE, t, x, t_x, big_t)
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    alive = ltv.bgnbd_probability_alive(TRUE, x, t_x, big_t)
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[0] > alive[1]  # same x, the one who bought recently is more likely alive
    assert np.all(np.isfinite(ltv.bgnbd_log_likelihood(TRUE, x, t_x, big_t)))
    clv = ltv.customer_lifetime_value(TRUE, x, t_x, big_t, np.full(5, 40.0), annual_rate=0.1)
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0)


def test_all_non_repeat_customers_cannot_be_fitted() -> None:
    with pytest.raises(InsufficientDataError, match="repeat purchases") as caught:
        ltv.fit_bgnbd(np.zeros(100), np.zeros(100), np.full(100, 30.0))
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_too_few_customers_cannot_be_fitted() -> None:
    with pytest.raises(InsufficientDataError, match="at least 20 customers"):
        ltv.fit_bgnbd([1, 2, 3], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0])


def test_identical_customers_cannot_be_fitted() -> None:
    with pytest.raises(InsufficientDataError, match="same frequency, recency and age"):
        ltv.fit_bgnbd(np.full(50, 2.0), np.full(50, 10.0), np.full(50, 20.0))


def test_unidentified_model_is_not_converged() -> None:
    # Everyone bought right up to the end of the window: nothing says anyone dropped out (a -> 0).
    rng = np.random.default_rng(3)
    x = rng.poisson(5, 200).astype(float)
    big_t = np.full(200, 50.0)
    t_x = np.where(x > 0, big_t, 0.0)
    with pytest.raises(InsufficientDataError, match="not identified"):
        ltv.fit_bgnbd(x, t_x, big_t)
    lenient = ltv.fit_bgnbd(x, t_x, big_t, strict=False)
    assert not lenient.converged
    assert "a, b" in lenient.message


@pytest.mark.parametrize(
    ("frequency", "recency", "age", "match"),
    [
        ([-1.0], [0.0], [5.0], "frequency"),
        ([1.5], [1.0], [5.0], "frequency"),
        ([1.0], [6.0], [5.0], "recency"),
        ([0.0], [0.0], [-1.0], "age"),
        ([1.0], [np.nan], [5.0], "recency"),
    ],
)
def test_invalid_inputs_are_rejected(frequency: list, recency: list, age: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ltv.bgnbd_probability_alive(TRUE, frequency, recency, age)


def test_fit_recovers_simulated_parameters_and_is_deterministic(simulated: dict[str, np.ndarray]) -> None:
    n = 10_000
    x, t_x, big_t = simulated["x"][:n], simulated["t_x"][:n], simulated["T"][:n]
    fit = ltv.fit_bgnbd(x, t_x, big_t)
    for name, value in TRUE.items():
        assert fit.params[name] == pytest.approx(value, rel=0.25), name
        assert abs(fit.params[name] - value) < 3 * fit.standard_errors[name], name
    order = np.random.default_rng(5).permutation(n)
    shuffled = ltv.fit_bgnbd(x[order], t_x[order], big_t[order])
    assert shuffled.params == fit.params
    assert shuffled.log_likelihood == fit.log_likelihood


def test_time_unit_only_rescales_alpha(simulated: dict[str, np.ndarray]) -> None:
    n = 5_000
    x, t_x, big_t = simulated["x"][:n], simulated["t_x"][:n], simulated["T"][:n]
    weeks = ltv.fit_bgnbd(x, t_x, big_t)
    days = ltv.fit_bgnbd(x, t_x * 7, big_t * 7)
    for name in ("r", "a", "b"):
        assert days.params[name] == pytest.approx(weeks.params[name], rel=1e-4)
    assert days.params["alpha"] == pytest.approx(7 * weeks.params["alpha"], rel=1e-4)
    # Densities in days are densities in weeks / 7 per observed repeat purchase time.
    assert days.log_likelihood == pytest.approx(weeks.log_likelihood - x.sum() * np.log(7), abs=1e-3)


# --- Gamma-Gamma ---------------------------------------------------------------------------------

GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def test_expected_order_value_is_the_credibility_weighted_mean() -> None:
    p, q, gamma = GG.values()
    population_mean = p * gamma / (q - 1)  # 30
    x = np.array([0.0, 1.0, 4.0])
    m = np.array([0.0, 50.0, 20.0])
    weight = p * x / (p * x + q - 1)
    expected = (1 - weight) * population_mean + weight * m
    assert ltv.gamma_gamma_expected_order_value(GG, x, m) == pytest.approx(expected, rel=1e-12)
    assert ltv.gamma_gamma_expected_order_value(GG, [0.0, 0.0], [123.0, np.nan]) == pytest.approx([30.0, 30.0])
    with pytest.raises(ValueError, match="monetary"):
        ltv.gamma_gamma_expected_order_value(GG, [1.0], [np.nan])


def test_gamma_gamma_log_likelihood_is_a_density() -> None:
    for x in (1.0, 3.0, 40.0):
        total, _ = integrate.quad(
            lambda m, x=x: np.exp(ltv.gamma_gamma_log_likelihood(GG, [x], [m])[0]), 0, np.inf, limit=200
        )
        assert total == pytest.approx(1.0, abs=1e-7), x


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    n = 5_000
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(GG["q"], 1 / GG["gamma"], n)
    m = rng.gamma(GG["p"] * x, 1 / (nu * x))  # mean of x Gamma(p, nu) values
    fit = ltv.fit_gamma_gamma(x, m)
    assert fit.params["p"] == pytest.approx(GG["p"], rel=0.15)
    assert fit.params["q"] == pytest.approx(GG["q"], rel=0.25)
    assert fit.params["gamma"] == pytest.approx(GG["gamma"], rel=0.3)


def test_gamma_gamma_insufficient_data() -> None:
    with pytest.raises(InsufficientDataError, match="at least 10"):
        ltv.fit_gamma_gamma([1, 2, 0], [10.0, 20.0, 0.0])
    with pytest.raises(InsufficientDataError, match="same mean spend"):
        ltv.fit_gamma_gamma(np.arange(1, 31), np.full(30, 25.0))
    with pytest.raises(InsufficientDataError):
        ltv.fit_gamma_gamma(np.zeros(30), np.zeros(30))


# --- CLV -------------------------------------------------------------------------------------------


def test_undiscounted_clv_telescopes_to_the_horizon_expectation() -> None:
    x, t_x, big_t = [2.0, 0.0], [30.0, 0.0], [40.0, 40.0]
    value = np.array([25.0, 40.0])
    clv = ltv.customer_lifetime_value(TRUE, x, t_x, big_t, value, horizon_months=12, monthly_rate=0.0)
    year = ltv.bgnbd_expected_purchases(TRUE, 365.25, x, t_x, big_t)
    assert clv == pytest.approx(value * year, rel=1e-10)


def test_discounted_clv_by_hand() -> None:
    x, t_x, big_t = [2.0], [30.0], [40.0]
    month = 365.25 / 12 / 7  # model time unit: weeks
    first = ltv.bgnbd_expected_purchases(TRUE, month, x, t_x, big_t)[0]
    second = ltv.bgnbd_expected_purchases(TRUE, 2 * month, x, t_x, big_t)[0]
    by_hand = 50 * first / 1.01 + 50 * (second - first) / 1.01**2
    clv = ltv.customer_lifetime_value(
        TRUE, x, t_x, big_t, [50.0], horizon_months=2, monthly_rate=0.01, time_unit_days=7
    )
    assert clv[0] == pytest.approx(by_hand, rel=1e-12)


def test_annual_rate_is_converted_to_monthly() -> None:
    assert ltv.monthly_discount_rate(0.12) == pytest.approx(1.12 ** (1 / 12) - 1)
    args = (TRUE, [2.0], [30.0], [40.0], [50.0])
    annual = ltv.customer_lifetime_value(*args, annual_rate=0.12)
    monthly = ltv.customer_lifetime_value(*args, monthly_rate=1.12 ** (1 / 12) - 1)
    assert annual == pytest.approx(monthly)
    with pytest.raises(ValueError, match="not both"):
        ltv.customer_lifetime_value(*args, annual_rate=0.1, monthly_rate=0.01)


def test_margin_clv_applies_margin_and_returns() -> None:
    args = (TRUE, [2.0, 5.0], [30.0, 39.0], [40.0, 40.0], [50.0, 80.0])
    revenue = ltv.customer_lifetime_value(*args, annual_rate=0.1)
    margin = ltv.margin_lifetime_value(*args, margin_rate=[0.4, 0.3], return_rate=[0.1, 0.5], annual_rate=0.1)
    assert margin == pytest.approx(revenue * np.array([0.4 * 0.9, 0.3 * 0.5]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        ltv.margin_lifetime_value(*args, margin_rate=1.5)


def test_score_lifetime_value_frame() -> None:
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "frequency": [0, 3, 12],
            "recency": [0.0, 200.0, 350.0],
            "age": [100.0, 300.0, 360.0],
            "monetary": [None, 42.0, 80.0],
            "margin_rate": [0.3, 0.3, 0.5],
            "return_rate": [0.0, 0.1, 0.2],
        }
    )
    bgnbd = ltv.FitResult("bgnbd", {"r": 0.6, "alpha": 50.0, "a": 0.8, "b": 2.5}, -1.0, 100, True, "converged")
    gamma_gamma = ltv.FitResult("gamma_gamma", GG, -1.0, 50, True, "converged")
    scored = ltv.score_lifetime_value(customers, bgnbd, gamma_gamma)
    assert list(scored.columns) == [
        "customer_id",
        "expected_purchases_90d",
        "expected_purchases_365d",
        "probability_alive",
        "expected_order_value",
        "lifetime_value",
        "margin_lifetime_value",
    ]
    assert scored["probability_alive"].iloc[0] == 1.0
    assert scored["expected_order_value"].iloc[0] == pytest.approx(30.0)
    assert (scored["expected_purchases_365d"] > scored["expected_purchases_90d"]).all()
    assert scored["margin_lifetime_value"].to_numpy() == pytest.approx(
        scored["lifetime_value"].to_numpy() * np.array([0.3, 0.27, 0.4])
    )
    with pytest.raises(ValueError, match="missing column"):
        ltv.score_lifetime_value(customers.drop(columns="age"), bgnbd, gamma_gamma)
