"""Log-space helpers: ``log1mexp`` (Mächler 2012) and ``log_mean_exp`` by hand and against
mpmath across their whole range, and the KL terms from a log ratio (``bonkl.divergence``)."""

from __future__ import annotations

import math

import mp_reference as mpr
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from bonkl import divergence, logspace


def test_log1mexp_by_hand():
    """log(1 − 1/2) = log(1/2); the ends 0 → -inf and -inf → 0; arrays keep their shape."""
    assert logspace.log1mexp(-math.log(2.0)) == pytest.approx(-math.log(2.0), rel=1e-15)
    assert logspace.log1mexp(0.0) == -np.inf
    assert logspace.log1mexp(-np.inf) == 0.0
    got = logspace.log1mexp(np.array([[-1.0, -2.0], [-3.0, -4.0]]))
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, np.log1p(-np.exp([[-1.0, -2.0], [-3.0, -4.0]])), rtol=1e-15)
    with pytest.raises(ValueError, match="a <= 0"):
        logspace.log1mexp(1e-3)


@pytest.mark.parametrize("a", [-1e-300, -1e-200, -1e-50, -1e-16, -1e-8, -1e-3, -0.3,
                               -0.6931471805599452, -0.6931471805599453, -0.6931471805599454,
                               -1.0, -5.0, -40.0, -700.0, -745.0, -1e5])
def test_log1mexp_against_mpmath(a):
    """Relative error below 1e-15 at both ends and at the switch −log 2 (both naive forms
    lose every digit at one end: log1p(−e^a) near 0, log(−expm1(a)) far below)."""
    want = mpr.log1mexp(a)
    assert logspace.log1mexp(a) == pytest.approx(float(want), rel=1e-15, abs=0)


def test_naive_forms_fail_where_log1mexp_holds():
    """The reason for the switch: each textbook form is wrong at one end."""
    with np.errstate(divide="ignore"):
        assert np.log1p(-np.exp(-1e-20)) == -np.inf  # 1 − e^a rounds to 0
    assert np.log(-np.expm1(-40.0)) == 0.0  # −expm1 rounds to 1: log1mexp(−40) = −4.2e-18
    assert logspace.log1mexp(-1e-20) == pytest.approx(math.log(1e-20), rel=1e-15)
    assert logspace.log1mexp(-40.0) == pytest.approx(-math.exp(-40.0), rel=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(1e-6, 1.0), min_size=1, max_size=6),
       st.floats(-1e3, 1e3), st.integers(0, 2**32 - 1))
def test_log_mean_exp_is_a_weighted_log_mean(weights, scale, seed):
    """Equals log(Σ w e^x / Σ w) (scipy's logsumexp) for weights that need not sum to 1."""
    x = scale * np.random.default_rng(seed).uniform(-1.0, 1.0, len(weights))
    want = special.logsumexp(x, b=np.array(weights)) - np.log(np.sum(weights))
    assert logspace.log_mean_exp(weights, x) == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("scale", [1e-300, 1e-100, 1e-12, 1e-3, 0.9, 1.1, 30.0])
def test_log_mean_exp_keeps_small_results(scale):
    """A result near 0 keeps its relative precision (mpmath at 400 digits); zero weights
    are left out even where x is huge."""
    p = np.array([0.5, 0.3, 0.2, 0.0])
    x = scale * np.array([1.0, 0.5, 0.25, 1e300])
    with mp.workdps(400):
        want = mp.log(mp.fsum(mp.mpf(pi) * mp.exp(mp.mpf(xi)) for pi, xi in zip(p[:3], x[:3],
                                                                                 strict=True)))
    assert logspace.log_mean_exp(p, x) == pytest.approx(float(want), rel=1e-14)


def test_log_ratio_terms_match_kl_terms():
    """The terms from ``ℓ`` equal those from the two logs (q = 0 gives p; p = 0 gives 0)."""
    rng = np.random.default_rng(3)
    log_p = np.log(rng.dirichlet(np.ones(8)))
    log_q = np.log(rng.dirichlet(np.ones(8)))
    log_q[2] = -np.inf
    np.testing.assert_allclose(divergence.log_ratio_terms(log_q - log_p, np.exp(log_p)),
                               divergence.kl_terms(log_q, log_p), rtol=1e-13, atol=1e-300)
    assert divergence.log_ratio_terms(np.array([0.7]), np.array([0.0]))[0] == 0.0
    assert divergence.log_ratio_terms(np.array([-np.inf]), np.array([0.25]))[0] == 0.25
