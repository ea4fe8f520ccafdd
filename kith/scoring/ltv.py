"""Customer lifetime value: the BG/NBD purchase model and the Gamma-Gamma spend model.

Models
------
BG/NBD (Fader, Hardie & Lee 2005, "'Counting your customers' the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2)). While alive, a customer buys as a Poisson process
with rate lambda ~ Gamma(r, alpha); after every purchase she drops out with probability
p ~ Beta(a, b). Per customer the sufficient statistics are:

- ``frequency`` x: number of *repeat* purchases in the calibration window (first purchase excluded),
- ``recency`` t_x: time from the first purchase to the last repeat purchase (0 when x = 0),
- ``age`` T: time from the first purchase to the end of the calibration window.

All three share one time unit (days in Kith; CDNOW uses weeks); ``alpha`` is in that unit.

Gamma-Gamma (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value", note 025). The x
repeat transaction values of a customer are i.i.d. Gamma(p, nu), nu ~ Gamma(q, gamma) across
customers, independent of the purchase process. Input: x and m = mean value of the x repeat
transactions, for customers with x > 0 only.

Numerics
--------
Parameters are optimised on the log scale (so they stay positive) with L-BFGS-B from a fixed
start, hence results are deterministic. Log-likelihoods are assembled in log space
(``gammaln``, ``betaln``, ``logsumexp``), so large x, t_x and T do not overflow; the x = 0 case
drops the second BG/NBD term exactly rather than multiplying it by zero. The BG/NBD time axis is
rescaled by the mean age before optimising (alpha is scale-equivariant; it is mapped back), and
identical (x, t_x, T) rows are collapsed into weighted rows, so a million customers cost only
as many likelihood terms as there are distinct rows. A fit counts as converged only if the
optimiser says so, no log-parameter sits at its bound (+-15) and the observed information is
positive definite with every log-parameter standard error below 5 (otherwise the likelihood is
flat in some direction, e.g. a -> 0 when nobody appears to drop out).

The Gauss hypergeometric term in the conditional expectation is used in its Euler-transformed
form ``(1-w)^(r+x) 2F1(r+x, b+x; a+b+x-1; w) = (1-w)^(a-1) 2F1(a-1, a+b-1-r; a+b+x-1; w)``
whose parameters do not grow with x (the untransformed value overflows near x = 1000). It is
evaluated with ``scipy.special.hyp2f1`` and, where that is not finite, a direct power series.
The expectation has a removable singularity at a = 1; near it the value is interpolated
between a = 1 -/+ 1e-4.

CLV
---
``customer_lifetime_value`` discounts expected monthly cash flows::

    CLV = sum_{k=1..H} aov * (E[Y(k*M) | x, t_x, T] - E[Y((k-1)*M) | x, t_x, T]) / (1 + d)^k

with M one month in model time units (365.25 / 12 days), H the horizon in months, aov the
Gamma-Gamma expected order value and d the monthly discount rate (an annual rate D is converted
as d = (1 + D)^(1/12) - 1). Purchases in month k are discounted as if made at its end.
``margin_lifetime_value`` multiplies each month's revenue by ``margin_rate * (1 - return_rate)``
(returns refunded in full, margin earned on kept revenue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

logger = logging.getLogger(__name__)

BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")
DAYS_PER_MONTH = 365.25 / 12

_LOG_BOUND = 15.0  # log-parameters are kept in [-15, 15] (values e^-15 .. 3.3e6)
_A_SINGULARITY_HALF_WIDTH = 1e-4
# A log-parameter with a standard error above this (a 95% interval wider than a factor e^20) is
# treated as not identified: the fit is flagged as not converged.
_MAX_LOG_STANDARD_ERROR = 5.0


class InsufficientDataError(ValueError):
    """The data cannot support a fit (too few customers, no repeat buyers, no variation, no convergence)."""


@dataclass(frozen=True)
class FitResult:
    """A fitted model: maximum-likelihood parameters and how the fit went.

    ``log_likelihood`` is the total over all customers, on the original time scale.
    ``standard_errors`` are asymptotic (observed information, delta method from the log scale);
    NaN when the information matrix is not positive definite.
    """

    model: str
    params: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    message: str
    standard_errors: dict[str, float] = field(default_factory=dict)
    details: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# input handling


def _as_float_array(values: ArrayLike, name: str) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has missing or infinite values")
    return array


def _check_rfm_inputs(
    frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    x = _as_float_array(frequency, "frequency")
    t_x = _as_float_array(recency, "recency")
    big_t = _as_float_array(age, "age")
    if not (x.shape == t_x.shape == big_t.shape):
        raise ValueError("frequency, recency and age must have the same length")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number of repeat purchases")
    if np.any(t_x < 0) or np.any(t_x > big_t * (1 + 1e-12)):
        raise ValueError("recency must be between 0 and age")
    if np.any(big_t < 0):
        raise ValueError("age must not be negative")
    return x, t_x, big_t


def _params(params: Mapping[str, float] | FitResult, names: tuple[str, ...]) -> tuple[float, ...]:
    values = params.params if isinstance(params, FitResult) else params
    missing = [name for name in names if name not in values]
    if missing:
        raise ValueError(f"missing parameters: {', '.join(missing)}")
    out = tuple(float(values[name]) for name in names)
    if not all(np.isfinite(v) and v > 0 for v in out):
        raise ValueError(f"parameters must be positive and finite: {dict(zip(names, out, strict=True))}")
    return out


# --------------------------------------------------------------------------------------------
# BG/NBD


def bgnbd_log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> NDArray[np.float64]:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005), computed in log space.

    ``L = Gamma(r+x) alpha^r / Gamma(r) * [B(a, b+x)/B(a,b) (alpha+T)^-(r+x)
    + 1{x>0} B(a+1, b+x-1)/B(a,b) (alpha+t_x)^-(r+x)]``.
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS)
    x, t_x, big_t = _check_rfm_inputs(frequency, recency, age)
    return _bgnbd_ll(r, alpha, a, b, x, t_x, big_t)


def _bgnbd_ll(
    r: float, alpha: float, a: float, b: float, x: NDArray, t_x: NDArray, big_t: NDArray
) -> NDArray[np.float64]:
    repeat = x > 0
    log_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    log_a2 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + big_t)
    # b + x - 1 > 0 wherever x >= 1; x = 0 rows get a placeholder that logsumexp ignores (weight 0).
    log_a3 = np.where(
        repeat,
        special.betaln(a + 1, np.where(repeat, b + x - 1, 1.0)) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
        0.0,
    )
    stacked = np.stack([log_a2, log_a3])
    weights = np.stack([np.ones_like(x), repeat.astype(float)])
    return log_a1 + special.logsumexp(stacked, axis=0, b=weights)


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    *,
    min_customers: int = 20,
    min_repeat_customers: int = 5,
    strict: bool = True,
) -> FitResult:
    """Fit BG/NBD by maximum likelihood.

    Args:
        frequency: repeat purchases x per customer.
        recency: time of the last repeat purchase t_x (0 when x = 0), from the first purchase.
        age: time T from the first purchase to the end of the calibration window.
        min_customers: fewer customers raise ``InsufficientDataError``.
        min_repeat_customers: fewer customers with x > 0 raise ``InsufficientDataError`` (the
            dropout process is only identified by repeat buyers).
        strict: raise ``InsufficientDataError`` when the optimiser does not converge, a
            parameter runs to its bound or is not identified (log-scale standard error above 5);
            with ``False`` return the fit with ``converged=False`` (and log a warning).

    Returns:
        ``FitResult`` with params ``r, alpha, a, b``.
    """
    x, t_x, big_t = _check_rfm_inputs(frequency, recency, age)
    n = x.size
    if n < min_customers:
        raise InsufficientDataError(f"BG/NBD needs at least {min_customers} customers, got {n}")
    n_repeat = int(np.count_nonzero(x > 0))
    if n_repeat < min_repeat_customers:
        raise InsufficientDataError(
            f"BG/NBD needs at least {min_repeat_customers} customers with repeat purchases, got {n_repeat}"
        )
    rows = pd.DataFrame({"x": x, "t_x": t_x, "T": big_t}).value_counts(sort=False).reset_index(name="weight")
    rows = rows.sort_values(["x", "t_x", "T"], kind="mergesort", ignore_index=True)  # order-independent sums
    if len(rows) == 1:
        raise InsufficientDataError("BG/NBD cannot be fitted: every customer has the same frequency, recency and age")

    weight = rows["weight"].to_numpy(dtype=float)
    ux, rt_x, rt = (rows[column].to_numpy() for column in ("x", "t_x", "T"))
    scale = float(np.dot(weight, rt) / n)  # mean age, summed in sorted order
    if scale <= 0:
        raise InsufficientDataError("BG/NBD cannot be fitted: every customer has age 0")
    ut_x, ut = rt_x / scale, rt / scale

    def negative_ll(log_params: NDArray[np.float64]) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = -float(np.dot(weight, _bgnbd_ll(r, alpha, a, b, ux, ut_x, ut))) / n
        return value if np.isfinite(value) else 1e300

    result = _minimise(negative_ll, np.zeros(4))
    r, alpha_scaled, a, b = np.exp(result.x)
    params = {"r": float(r), "alpha": float(alpha_scaled * scale), "a": float(a), "b": float(b)}
    log_likelihood = float(np.dot(weight, _bgnbd_ll(*params.values(), ux, rt_x, rt)))
    return _finish("bgnbd", params, result, negative_ll, log_likelihood, n, strict)


def _minimise(objective: Callable[[NDArray[np.float64]], float], start: NDArray[np.float64]) -> optimize.OptimizeResult:
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * start.size
    result = optimize.minimize(
        objective, start, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}
    )
    # A second, tighter pass from the first optimum (cheap, deterministic). It may stop at once
    # ("ABNORMAL" line search) when the first pass already sits at the optimum within the noise of
    # the finite-difference gradient; either pass converging counts, and the better point is kept.
    polished = optimize.minimize(
        objective, result.x, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10}
    )
    best = polished if polished.fun <= result.fun else result
    best.success = bool(result.success or polished.success)
    best.nit = int(result.nit) + int(polished.nit)
    return best


def _log_parameter_standard_errors(
    objective: Callable[[NDArray[np.float64]], float], optimum: NDArray[np.float64], n: int, step: float = 1e-3
) -> NDArray[np.float64]:
    """Standard errors of the log-parameters from a central-difference Hessian of the mean negative LL.

    NaN where the observed information is not positive definite (a flat direction).
    """
    k = optimum.size
    hessian = np.empty((k, k))
    unit = np.eye(k) * step
    for i in range(k):
        for j in range(i, k):
            hessian[i, j] = hessian[j, i] = (
                objective(optimum + unit[i] + unit[j])
                - objective(optimum + unit[i] - unit[j])
                - objective(optimum - unit[i] + unit[j])
                + objective(optimum - unit[i] - unit[j])
            ) / (4 * step * step)
    information = n * hessian
    if not np.all(np.isfinite(information)) or np.linalg.eigvalsh(information)[0] <= 0:
        return np.full(k, np.nan)
    return np.sqrt(np.diag(np.linalg.inv(information)))


def _finish(
    model: str,
    params: dict[str, float],
    result: optimize.OptimizeResult,
    objective: Callable[[NDArray[np.float64]], float],
    log_likelihood: float,
    n: int,
    strict: bool,
) -> FitResult:
    at_bound = [name for name, v in zip(params, result.x, strict=True) if abs(v) > _LOG_BOUND - 1e-3]
    log_se = _log_parameter_standard_errors(objective, result.x, n)
    flat = [name for name, se in zip(params, log_se, strict=True) if not se <= _MAX_LOG_STANDARD_ERROR]
    converged = bool(result.success) and not at_bound and not flat and bool(np.isfinite(log_likelihood))
    if converged:
        message = "converged"
    elif at_bound:
        names = ", ".join(at_bound)
        message = f"parameter(s) {names} ran to the optimisation bound: the data do not identify the model"
    elif flat:
        names = ", ".join(flat)
        message = f"parameter(s) {names} are not identified (flat likelihood): the data do not support the model"
    else:
        message = f"optimiser did not converge: {result.message}"
    if not converged and strict:
        raise InsufficientDataError(f"{model} fit failed: {message}")
    if not converged:
        logger.warning("%s fit did not converge: %s", model, message)
    return FitResult(
        model=model,
        params=params,
        log_likelihood=log_likelihood,
        n_customers=n,
        converged=converged,
        message=message,
        standard_errors={name: float(value * se) for (name, value), se in zip(params.items(), log_se, strict=True)},
        details={"iterations": float(result.nit)},
    )


def bgnbd_probability_alive(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, recency: ArrayLike, age: ArrayLike
) -> NDArray[np.float64]:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Exactly 1 for x = 0: in BG/NBD a customer can only drop out right after a repeat purchase.
    Equivalently the share of the "still alive at T" term in the likelihood (Fader, Hardie & Lee,
    "Computing P(alive) using the BG/NBD model", note 021). Computed as ``expit(-log odds)``.
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS)
    x, t_x, big_t = _check_rfm_inputs(frequency, recency, age)
    return _probability_alive(r, alpha, a, b, x, t_x, big_t)


def _probability_alive(
    r: float, alpha: float, a: float, b: float, x: NDArray, t_x: NDArray, big_t: NDArray
) -> NDArray[np.float64]:
    repeat = x > 0
    safe_b = np.where(repeat, b + x - 1, 1.0)
    log_odds_dead = np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    return np.where(repeat, special.expit(-log_odds_dead), 1.0)


def hyp2f1_series(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike, *, max_terms: int = 200_000) -> NDArray:
    """Gauss 2F1(a, b; c; z) by its power series, for 0 <= z < 1 (the fallback for ``scipy.special.hyp2f1``).

    Terms follow ``t_{k+1} = t_k (a+k)(b+k) / ((c+k)(k+1)) z``; summation stops when every term is
    below 1e-17 of its partial sum (or after ``max_terms``; the series converges geometrically in z).
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, c, z)))
    if np.any((z < 0) | (z >= 1)):
        raise ValueError("hyp2f1_series needs 0 <= z < 1")
    term = np.ones(a.shape)
    total = np.ones(a.shape)
    active = np.ones(a.shape, dtype=bool)
    for k in range(max_terms):
        if not active.any():
            break
        term = np.where(active, term * (a + k) * (b + k) / ((c + k) * (k + 1)) * z, 0.0)
        total = total + term
        active &= np.abs(term) > 1e-17 * np.abs(total)
    return total


def _hyp2f1(a: NDArray, b: NDArray, c: NDArray, z: NDArray) -> NDArray:
    value = special.hyp2f1(a, b, c, z)
    bad = ~np.isfinite(value)
    if np.any(bad):
        value = np.array(value, dtype=float)
        value[bad] = hyp2f1_series(a[bad], b[bad], c[bad], z[bad])
    return value


def _expected_given_alive_numerator(
    r: float, alpha: float, a: float, b: float, t: NDArray, x: NDArray, big_t: NDArray
) -> NDArray[np.float64]:
    """(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]."""
    if abs(a - 1.0) < _A_SINGULARITY_HALF_WIDTH:
        h = _A_SINGULARITY_HALF_WIDTH
        low = _numerator_away_from_one(r, alpha, 1.0 - h, b, t, x, big_t)
        high = _numerator_away_from_one(r, alpha, 1.0 + h, b, t, x, big_t)
        weight = (a - (1.0 - h)) / (2 * h)
        return (1 - weight) * low + weight * high
    return _numerator_away_from_one(r, alpha, a, b, t, x, big_t)


def _numerator_away_from_one(
    r: float, alpha: float, a: float, b: float, t: NDArray, x: NDArray, big_t: NDArray
) -> NDArray[np.float64]:
    t, x, big_t = np.broadcast_arrays(t, x, big_t)
    w = t / (alpha + big_t + t)
    c = a + b + x - 1
    # Euler transform: (1-w)^(r+x) 2F1(r+x, b+x; c; w) = (1-w)^(a-1) 2F1(a-1, c-r-x; c; w).
    hyp = _hyp2f1(np.full(w.shape, a - 1.0), a + b - 1.0 - r + np.zeros(w.shape), c, w)
    # In log space (expm1 keeps precision when the term is near 1) where the 2F1 value is positive.
    # With a + b < 1 the third parameter c is negative for x = 0 and the value can be 0 or
    # negative: there the product is formed directly (it is then far from 1, no cancellation).
    positive = hyp > 0
    log_power = (a - 1.0) * np.log1p(-w)
    log_term = log_power + np.log(np.where(positive, hyp, 1.0))
    bracket = np.where(positive, np.expm1(log_term), np.exp(log_power) * hyp - 1.0)
    return -(c / (a - 1.0)) * bracket


def bgnbd_expected_purchases(
    params: Mapping[str, float] | FitResult,
    t: float | ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
) -> NDArray[np.float64]:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (FHL 2005).

    ``E = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    * P(alive | x, t_x, T)``.
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS)
    x, t_x, big_t = _check_rfm_inputs(frequency, recency, age)
    horizon = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    if np.any(horizon < 0) or not np.all(np.isfinite(horizon)):
        raise ValueError("t must be non-negative and finite")
    numerator = _expected_given_alive_numerator(r, alpha, a, b, horizon, x, big_t)
    return np.where(horizon > 0, numerator * _probability_alive(r, alpha, a, b, x, t_x, big_t), 0.0)


def bgnbd_population_expected_purchases(params: Mapping[str, float] | FitResult, t: ArrayLike) -> NDArray[np.float64]:
    """E[X(t)]: expected repeat purchases of a new customer in ``t`` time units after the first (FHL 2005)."""
    r, alpha, a, b = _params(params, BGNBD_PARAMS)
    horizon = _as_float_array(t, "t")
    zeros = np.zeros_like(horizon)
    return np.where(horizon > 0, _expected_given_alive_numerator(r, alpha, a, b, horizon, zeros, zeros), 0.0)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma


def _check_spend_inputs(frequency: ArrayLike, monetary: ArrayLike) -> tuple[NDArray, NDArray]:
    """Validated (x, m); m may be missing where x = 0 (it is not observed there) and is set to 0."""
    x = _as_float_array(frequency, "frequency")
    m = np.asarray(monetary, dtype=float).reshape(-1)
    if x.shape != m.shape:
        raise ValueError("frequency and monetary must have the same length")
    if np.any(x < 0):
        raise ValueError("frequency must be non-negative")
    repeat = x > 0
    if not np.all(np.isfinite(m[repeat])) or np.any(m[repeat] <= 0):
        raise ValueError("monetary must be positive and finite for customers with repeat purchases")
    return x, np.where(repeat, m, 0.0)


def gamma_gamma_log_likelihood(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, monetary: ArrayLike
) -> NDArray[np.float64]:
    """Per-customer log density of the mean spend m of x > 0 transactions (Fader & Hardie 2013).

    ``f(m | p, q, gamma, x) = Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)``.
    """
    p, q, gamma = _params(params, GAMMA_GAMMA_PARAMS)
    x, m = _check_spend_inputs(frequency, monetary)
    if np.any(x <= 0):
        raise ValueError("the Gamma-Gamma likelihood is defined for customers with frequency > 0 only")
    return _gamma_gamma_ll(p, q, gamma, x, m)


def _gamma_gamma_ll(p: float, q: float, gamma: float, x: NDArray, m: NDArray) -> NDArray[np.float64]:
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary: ArrayLike,
    *,
    min_customers: int = 10,
    strict: bool = True,
) -> FitResult:
    """Fit the Gamma-Gamma spend model by maximum likelihood on customers with x > 0.

    Customers with x = 0 are ignored (their m is not observed and may be missing), so the whole
    customer frame may be passed. ``details["frequency_monetary_correlation"]`` reports the
    correlation of x and m among repeat customers (the model assumes independence; a warning is
    logged above 0.3 in absolute value). ``n_customers`` counts the repeat customers used.

    Raises ``InsufficientDataError`` with fewer than ``min_customers`` repeat customers, when every
    repeat customer has the same m (no spread to separate p from q), or (``strict``) when the fit
    does not converge or is not identified.
    """
    x, m = _check_spend_inputs(frequency, monetary)
    keep = x > 0
    order = np.lexsort((m[keep], x[keep]))  # sums in a fixed order: results independent of row order
    x, m = x[keep][order], m[keep][order]
    n = x.size
    if n < min_customers:
        raise InsufficientDataError(
            f"Gamma-Gamma needs at least {min_customers} customers with repeat purchases, got {n}"
        )
    if np.ptp(m) <= 1e-12 * np.max(m):
        raise InsufficientDataError("Gamma-Gamma cannot be fitted: every repeat customer has the same mean spend")
    scale = float(np.mean(m))  # gamma is scale-equivariant in m; fit on m / mean(m) for conditioning
    m_scaled = m / scale

    def negative_ll(log_params: NDArray[np.float64]) -> float:
        p, q, gamma = np.exp(log_params)
        value = -float(np.sum(_gamma_gamma_ll(p, q, gamma, x, m_scaled))) / n
        return value if np.isfinite(value) else 1e300

    result = _minimise(negative_ll, np.zeros(3))
    p, q, gamma_scaled = np.exp(result.x)
    params = {"p": float(p), "q": float(q), "gamma": float(gamma_scaled * scale)}
    log_likelihood = float(np.sum(_gamma_gamma_ll(p, q, params["gamma"], x, m)))
    fit = _finish("gamma_gamma", params, result, negative_ll, log_likelihood, n, strict)
    # The model assumes spend is independent of frequency; Fader & Hardie check this correlation.
    correlation = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 else float("nan")
    fit.details["frequency_monetary_correlation"] = correlation
    if abs(correlation) > 0.3:
        logger.warning(
            "Gamma-Gamma: frequency and mean spend correlate (%.2f); the model assumes independence", correlation
        )
    if fit.converged and params["q"] <= 1:
        logger.warning("Gamma-Gamma q = %.3f <= 1: the population mean spend is infinite", params["q"])
    return fit


def gamma_gamma_expected_order_value(
    params: Mapping[str, float] | FitResult, frequency: ArrayLike, monetary: ArrayLike
) -> NDArray[np.float64]:
    """E[M | p, q, gamma, m, x] = (gamma + m x) p / (p x + q - 1) (Fader & Hardie 2013).

    A weighted mean of the population mean p gamma / (q - 1) and the customer's own m, with weight
    p x / (p x + q - 1) on m. For x = 0 it is the population mean (m is ignored). Needs q > 1.
    """
    p, q, gamma = _params(params, GAMMA_GAMMA_PARAMS)
    if q <= 1:
        raise ValueError(f"expected order value needs q > 1, got q = {q:.4g}")
    x, m = _check_spend_inputs(frequency, monetary)
    return (gamma + m * x) * p / (p * x + q - 1)


# --------------------------------------------------------------------------------------------
# CLV


def monthly_discount_rate(annual_rate: float) -> float:
    """Monthly rate equivalent to an annual one: (1 + annual) ** (1 / 12) - 1."""
    if annual_rate <= -1:
        raise ValueError("annual discount rate must be greater than -1")
    return float((1.0 + annual_rate) ** (1.0 / 12.0) - 1.0)


def customer_lifetime_value(
    bgnbd_params: Mapping[str, float] | FitResult,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    expected_order_value: ArrayLike,
    *,
    horizon_months: int = 12,
    monthly_rate: float | None = None,
    annual_rate: float | None = None,
    time_unit_days: float = 1.0,
) -> NDArray[np.float64]:
    """Discounted expected revenue over ``horizon_months`` (formula in the module docstring).

    Args:
        bgnbd_params: fitted BG/NBD parameters.
        frequency, recency, age: calibration statistics, in the model's time unit.
        expected_order_value: per-customer value per order (usually ``gamma_gamma_expected_order_value``).
        horizon_months: number of monthly periods summed.
        monthly_rate, annual_rate: discount rate; give at most one (default: no discounting).
        time_unit_days: length of one model time unit in days (1 for days, 7 for weeks).
    """
    if monthly_rate is not None and annual_rate is not None:
        raise ValueError("give monthly_rate or annual_rate, not both")
    rate = monthly_discount_rate(annual_rate) if annual_rate is not None else (monthly_rate or 0.0)
    if rate <= -1:
        raise ValueError("discount rate must be greater than -1")
    if horizon_months < 1:
        raise ValueError("horizon_months must be at least 1")
    if time_unit_days <= 0:
        raise ValueError("time_unit_days must be positive")
    x, t_x, big_t = _check_rfm_inputs(frequency, recency, age)
    value = _as_float_array(expected_order_value, "expected_order_value")
    if value.shape != x.shape:
        raise ValueError("expected_order_value must have one value per customer")
    month = DAYS_PER_MONTH / time_unit_days
    total = np.zeros_like(x)
    previous = np.zeros_like(x)
    for k in range(1, horizon_months + 1):
        cumulative = bgnbd_expected_purchases(bgnbd_params, k * month, x, t_x, big_t)
        total += value * (cumulative - previous) / (1.0 + rate) ** k
        previous = cumulative
    return total


def margin_lifetime_value(
    bgnbd_params: Mapping[str, float] | FitResult,
    frequency: ArrayLike,
    recency: ArrayLike,
    age: ArrayLike,
    expected_order_value: ArrayLike,
    margin_rate: ArrayLike,
    return_rate: ArrayLike = 0.0,
    *,
    horizon_months: int = 12,
    monthly_rate: float | None = None,
    annual_rate: float | None = None,
    time_unit_days: float = 1.0,
) -> NDArray[np.float64]:
    """Discounted expected margin: ``customer_lifetime_value * margin_rate * (1 - return_rate)``.

    ``margin_rate`` (gross margin share of kept revenue) and ``return_rate`` (share of revenue
    returned and refunded) are per customer or scalars, each in [0, 1].
    """
    revenue = customer_lifetime_value(
        bgnbd_params,
        frequency,
        recency,
        age,
        expected_order_value,
        horizon_months=horizon_months,
        monthly_rate=monthly_rate,
        annual_rate=annual_rate,
        time_unit_days=time_unit_days,
    )
    return _apply_margin(revenue, margin_rate, return_rate)


def _apply_margin(revenue: NDArray[np.float64], margin_rate: ArrayLike, return_rate: ArrayLike) -> NDArray[np.float64]:
    margin = _as_float_array(margin_rate, "margin_rate")
    returns = _as_float_array(return_rate, "return_rate")
    if np.any((margin < 0) | (margin > 1)) or np.any((returns < 0) | (returns > 1)):
        raise ValueError("margin_rate and return_rate must be between 0 and 1")
    if margin.size not in (1, revenue.size) or returns.size not in (1, revenue.size):
        raise ValueError("margin_rate and return_rate need one value per customer (or one for all)")
    return revenue * margin * (1.0 - returns)


def score_lifetime_value(
    customers: pd.DataFrame,
    bgnbd: FitResult,
    gamma_gamma: FitResult,
    *,
    horizons_days: tuple[int, ...] = (90, 365),
    horizon_months: int = 12,
    annual_rate: float = 0.1,
    time_unit_days: float = 1.0,
) -> pd.DataFrame:
    """Score a per-customer frame with both fitted models (the entry point for the dbt Python model).

    ``customers`` needs ``customer_id, frequency, recency, age, monetary`` (times in the model
    unit; ``monetary`` = mean repeat order value, ignored where frequency = 0) and optionally
    ``margin_rate`` and ``return_rate``. Returns ``customer_id``, ``expected_purchases_<h>d`` per
    horizon, ``probability_alive``, ``expected_order_value``, ``lifetime_value`` and, when the
    margin columns are present, ``margin_lifetime_value``.
    """
    required = ["customer_id", "frequency", "recency", "age", "monetary"]
    missing = [column for column in required if column not in customers.columns]
    if missing:
        raise ValueError(f"customers frame is missing column(s): {', '.join(missing)}")
    x = customers["frequency"].to_numpy(dtype=float)
    t_x = customers["recency"].to_numpy(dtype=float)
    big_t = customers["age"].to_numpy(dtype=float)
    monetary = customers["monetary"].to_numpy(dtype=float)
    out = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy()})
    for days in horizons_days:
        out[f"expected_purchases_{days}d"] = bgnbd_expected_purchases(bgnbd, days / time_unit_days, x, t_x, big_t)
    out["probability_alive"] = bgnbd_probability_alive(bgnbd, x, t_x, big_t)
    order_value = gamma_gamma_expected_order_value(gamma_gamma, x, monetary)
    out["expected_order_value"] = order_value
    clv_args = {
        "horizon_months": horizon_months,
        "annual_rate": annual_rate,
        "time_unit_days": time_unit_days,
    }
    out["lifetime_value"] = customer_lifetime_value(bgnbd, x, t_x, big_t, order_value, **clv_args)
    if {"margin_rate", "return_rate"} <= set(customers.columns):
        out["margin_lifetime_value"] = _apply_margin(
            out["lifetime_value"].to_numpy(), customers["margin_rate"], customers["return_rate"]
        )
    return out
