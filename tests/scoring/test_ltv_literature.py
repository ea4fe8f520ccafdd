"""Reproduce the published CDNOW results of BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie 2013).

Every expected number below is copied from the papers, never from this library's output:

- FHL 2005, section 4 (CDNOW, 2,357 customers, 39-week calibration): r = 0.243, alpha = 4.414,
  a = 0.793, b = 2.426, LL = -9582.4; and for the customer with x = 2, t_x = 30.43, T = 38.86,
  E[Y(39) | x, t_x, T] = 1.226 repeat purchases in the next 39 weeks.
- Fader & Hardie 2013 (note 025), the 946 customers with at least one repeat purchase and their
  mean repeat transaction value: p = 6.25, q = 3.74, gamma = 15.44.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kith.scoring import ltv

DATA = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PUBLISHED_CONDITIONAL_EXPECTATION = 1.226  # x = 2, t_x = 30.43, T = 38.86, next 39 weeks


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def bgnbd_fit(cdnow: pd.DataFrame) -> ltv.FitResult:
    return ltv.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def test_dataset_is_the_papers_sample(cdnow: pd.DataFrame) -> None:
    assert len(cdnow) == 2357
    assert int((cdnow["x"] > 0).sum()) == 946
    assert cdnow["T"].max() <= 39
    first = cdnow.iloc[0]
    assert (first["x"], first["t_x"], first["T"]) == (2, 30.43, 38.86)


def test_bgnbd_parameters_match_fader_hardie_lee_2005(bgnbd_fit: ltv.FitResult) -> None:
    assert bgnbd_fit.converged
    assert bgnbd_fit.n_customers == 2357
    for name, published in PUBLISHED_BGNBD.items():
        assert bgnbd_fit.params[name] == pytest.approx(published, rel=0.01), name


def test_bgnbd_parameters_match_to_the_published_rounding(bgnbd_fit: ltv.FitResult) -> None:
    # The paper prints three decimals; the maximum should round (to within one unit) to them.
    for name, published in PUBLISHED_BGNBD.items():
        assert abs(bgnbd_fit.params[name] - published) <= 0.0015, name


def test_bgnbd_log_likelihood_matches(bgnbd_fit: ltv.FitResult, cdnow: pd.DataFrame) -> None:
    assert bgnbd_fit.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.05)
    at_published = ltv.bgnbd_log_likelihood(PUBLISHED_BGNBD, cdnow["x"], cdnow["t_x"], cdnow["T"]).sum()
    assert at_published == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.05)
    assert bgnbd_fit.log_likelihood >= at_published  # the fit is the maximum


@pytest.mark.parametrize("which", ["fitted", "published"])
def test_conditional_expectation_matches_the_paper(which: str, bgnbd_fit: ltv.FitResult) -> None:
    params = bgnbd_fit.params if which == "fitted" else PUBLISHED_BGNBD
    expected = ltv.bgnbd_expected_purchases(params, 39.0, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(PUBLISHED_CONDITIONAL_EXPECTATION, abs=0.0015)


def test_gamma_gamma_parameters_match_fader_hardie_2013(cdnow: pd.DataFrame) -> None:
    fit = ltv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])  # x = 0 rows are ignored
    assert fit.converged
    assert fit.n_customers == 946
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert fit.params[name] == pytest.approx(published, rel=0.01), name


def test_gamma_gamma_on_repeat_customers_only_is_the_same_fit(cdnow: pd.DataFrame) -> None:
    repeat = cdnow[cdnow["x"] > 0]
    everyone = ltv.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    only_repeat = ltv.fit_gamma_gamma(repeat["x"], repeat["zbar"])
    assert only_repeat.params == everyone.params
    assert np.isfinite(only_repeat.log_likelihood)
