"""Memoryless LM: best-of-N against the tilted optimum, rate function, cumulants (paper B).

The reference for best-of-N is exact (``mp_reference.memoryless``): the law of the summed
reward is the coefficient list of ``(Σ_a w_a x^a)^m`` for integer weights ``w`` (Kronecker
substitution in Python integers), and every quantity follows in mpmath straight from the
definitions ``π_N(s) = F(s)^N − F(s−1)^N``, ``φ(s) ∝ p(s) e^{λ s}``, with ``N = e^{mδ}`` as
large as e^{300}. ``test_accuracy`` takes it to ``mδ = 1600``.
"""

from __future__ import annotations

import math

import mp_reference as mpr
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bonkl import memoryless, tilt

# (integer weights, rewards): p = w / Σw
THREE = ((5, 3, 2), (0, 1, 2))
BERNOULLI = ((7, 3), (0, 1))
GAPPED = ((2, 0, 1, 1), (-2, 7, 0, 4))  # a zero-mass outcome, step 2, a hole in the lattice


CASES = [(THREE, 0.05, m) for m in (1, 10, 100, 1000)] + [
    (THREE, 0.3, 1000), (BERNOULLI, 0.5, 7), (BERNOULLI, 0.5, 1000), (BERNOULLI, 0.01, 1000),
    (GAPPED, 0.2, 3), (GAPPED, 0.2, 400),
]


@pytest.mark.parametrize(("reference", "delta", "m"), CASES)
def test_best_of_n_vs_tilt_matches_mpmath(reference, delta, m):
    """Relative error <= 1e-8 against the exact integer law, by both methods where they apply."""
    weights, rewards = reference
    p = np.array(weights, float) / sum(weights)
    want = mpr.memoryless(weights, rewards, m, delta)
    methods = ["exact"] + (["fft"] if m >= 100 else [])
    for method in methods:
        got = memoryless.best_of_n_vs_tilt(p, rewards, m, delta, method=method)
        for key in ("reward_bon", "reward_tilt", "kl_bon", "kl_bon_to_tilt", "lam"):
            value = float(want[key])
            assert abs(got[key] - value) <= 1e-8 * abs(value), (method, key)
        assert got["truncated_mass"] <= memoryless.TRUNCATION_LIMIT


def test_best_of_n_vs_tilt_by_hand_at_m_1():
    """m = 1, N = e^δ, Bernoulli(1/2) with rewards 0, 1: π_N(1) = 1 − 2^{−N}."""
    delta = 0.4
    n = math.exp(delta)
    top = 1 - 2.0**-n
    got = memoryless.best_of_n_vs_tilt([0.5, 0.5], [0, 1], 1, delta)
    assert got["reward_bon"] == pytest.approx(top, rel=1e-14)
    kl = top * math.log(2 * top) + (1 - top) * math.log(2 * (1 - top))
    assert got["kl_bon"] == pytest.approx(kl, rel=1e-12)
    phi, lam = tilt.kl_constrained([0.5, 0.5], [0, 1], delta)
    assert got["reward_tilt"] == pytest.approx(phi[1], rel=1e-14) and got["lam"] == lam


def test_astronomical_n_stays_finite_and_converges():
    """m = 10⁶ at δ = 0.3 (N = e^{300000}): the three limits of paper B, O(log m/m) rate."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0, 1, 2])
    small = memoryless.best_of_n_vs_tilt(p, r, 10**4, 0.3)
    big = memoryless.best_of_n_vs_tilt(p, r, 10**6, 0.3)
    assert all(np.isfinite(v) for v in big.values())
    assert abs(big["reward_bon"] - big["reward_tilt"]) < abs(small["reward_bon"]
                                                               - small["reward_tilt"])
    assert 0 < 0.3 - big["kl_bon"] < 1e-4 and big["kl_bon"] <= big["kl_formula"]
    assert 0 < big["kl_bon_to_tilt"] < 3 * math.log(10**6) / 10**6


def test_fft_window_refuses_when_truncation_would_matter():
    with pytest.raises(ValueError, match="outside the FFT window"):
        memoryless.best_of_n_vs_tilt([0.5, 0.3, 0.2], [0, 1, 2], 10, 0.1, method="fft")


def test_bad_inputs():
    with pytest.raises(ValueError, match="integers"):
        memoryless.best_of_n_vs_tilt([0.5, 0.5], [0, 0.5], 10, 0.1)
    with pytest.raises(ValueError, match="delta must lie"):
        memoryless.best_of_n_vs_tilt([0.5, 0.5], [0, 1], 10, math.log(2))
    with pytest.raises(ValueError, match="constant"):
        memoryless.lattice([0.5, 0.5], [1, 1])


def test_rate_function_bernoulli_by_hand():
    """φ_λ Bernoulli(q): I(x) = x log(x/q) + (1−x) log((1−x)/(1−q)), inf outside [0, 1]."""
    p, r, lam = np.array([0.7, 0.3]), np.array([0.0, 1.0]), 0.8
    q = float(np.exp(tilt.log_tilt(p, r, lam))[1])
    for x in (1e-6, 0.1, q, 0.5, 0.99, 1 - 1e-9):
        want = x * math.log(x / q) + (1 - x) * math.log((1 - x) / (1 - q))
        assert memoryless.rate_function(p, r, lam, x) == pytest.approx(want, rel=1e-9, abs=1e-15)
    assert memoryless.rate_function(p, r, lam, 1.0) == pytest.approx(-math.log(q), rel=1e-14)
    assert memoryless.rate_function(p, r, lam, 1.5) == np.inf


def test_tail_rate_converges_to_rate_function():
    """−(1/m) log P_φ(r/m >= x) → I(x) above the mean, within O(log m / m)."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0, 1, 2])
    _, lam = tilt.kl_constrained(p, r, 0.1)
    xs = np.array([1.3, 1.6, 1.9])
    rate = memoryless.rate_function(p, r, lam, xs)
    errors = [np.max(np.abs(memoryless.tail_rate(p, r, lam, m, xs) - rate))
              for m in (10, 100, 1000)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 2 * math.log(1000) / 1000


def test_lower_tail_rate_against_mpmath():
    """−(1/m) log P_φ(r/m <= x) below the mean: mpmath's exact integer law of the negated
    reward (P(r <= mx) = P(−r >= −mx) under the tilt −λ of −r), and convergence to I(x)."""
    import mp_reference as mpr

    p, r = np.array([0.5, 0.3, 0.2]), np.array([0, 1, 2])
    phi, lam = tilt.kl_constrained(p, r, 0.1)
    xs = np.array([0.1, 0.4, 0.7])
    assert np.all(xs < phi @ r)  # below the tilted mean, 1.06
    got = memoryless.tail_rate(p, r, lam, 50, xs, "lower")
    want = mpr.tail_rates([5, 3, 2], [0, -1, -2], -lam, 50, -xs)
    np.testing.assert_allclose(got, [float(w) for w in want], rtol=1e-10)
    rate = memoryless.rate_function(p, r, lam, xs)
    errors = [np.max(np.abs(memoryless.tail_rate(p, r, lam, m, xs, "lower") - rate))
              for m in (10, 100, 1000)]
    assert errors[0] > errors[1] > errors[2]
    with pytest.raises(ValueError, match="tail"):
        memoryless.tail_rate(p, r, lam, 10, xs, "both")


@pytest.mark.parametrize(("method", "rtol"), [("exact", 1e-9), ("fft", 1e-6)])
def test_scaled_cumulants_equal_cgf_derivatives(method, rtol):
    """κ_k/m = Λ^(k)(λ); the FFT window leaves out tails below 1e-11 of the peak, which
    moves the fourth cumulant by ~1e-7 relative."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0, 1, 2])
    _, lam = tilt.kl_constrained(p, r, 0.1)
    want = tilt.cgf_derivatives(p, r, lam)
    got = memoryless.scaled_cumulants(p, r, lam, 300, method)
    np.testing.assert_allclose(got, want, rtol=rtol)


def test_cgf_derivatives_match_mpmath():
    p, r, lam = [0.6, 0.3, 0.0999, 1e-4], [0.0, 0.5, 0.9, 1.0], 2.5
    with mp.workdps(50):
        def cgf(t):
            return mp.log(mp.fsum(mp.mpf(pi) * mp.exp(t * mp.mpf(ri))
                                  for pi, ri in zip(p, r, strict=True)))
        want = [mp.diff(cgf, mp.mpf(lam), k) for k in (1, 2, 3, 4)]
    got = tilt.cgf_derivatives(p, r, lam)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(float(w), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6),
       st.floats(0.0, 3.0), st.floats(-2.0, 2.0).filter(lambda t: abs(t) > 1e-3))
def test_renyi_form_equals_scaled_cgf(weights, lam, t):
    p = np.array(weights) / np.sum(weights)
    r = np.arange(p.size, dtype=float) * 0.7
    assert memoryless.scaled_cgf_renyi(p, r, lam, t) == pytest.approx(
        memoryless.scaled_cgf(p, r, lam, t), rel=1e-11, abs=1e-13)


def test_integer_neighbours_by_hand():
    """Bernoulli (0.8, 0.2; 0, 1), m = 1, δ = 0.1: N = e^{0.1} = 1.105, so ⌊N⌋ = 1 (the
    reference: reward 0.2, KL 0) and ⌈N⌉ = 2 (reward 1 − 0.8² = 0.36, KL 0.64 log(0.64/0.8)
    + 0.36 log(0.36/0.2)); flagged, as mδ <= 3. At m = 40 (mδ = 4) nothing is flagged."""
    from bonkl.study import kl_constrained as study

    got = study.integer_neighbours([0.8, 0.2], [0, 1], 1, 0.1)
    assert got["small_m_delta"] and got["n_real"] == pytest.approx(math.exp(0.1))
    assert got["reward_bon_floor"] == pytest.approx(0.2) and got["kl_bon_floor"] == 0
    assert got["reward_bon_ceil"] == pytest.approx(0.36, rel=1e-12)
    kl = 0.64 * math.log(0.64 / 0.8) + 0.36 * math.log(0.36 / 0.2)
    assert got["kl_bon_ceil"] == pytest.approx(kl, rel=1e-10)
    late = study.integer_neighbours([0.8, 0.2], [0, 1], 40, 0.1)
    assert not late["small_m_delta"] and late["reward_bon_ceil"] == 0


def test_rate_fit_recovers_known_lines():
    """Per-sequence KL = 0.5 log m − 1 and log(reverse KL/m) = 0.05 m − 7 exactly: the fits
    give a = 0.5, c = 0.05 (c/δ = 0.5 at δ = 0.1), with intervals that contain them; a
    bent curve (0.5 log m + 0.01 (log m)²) gives an a the interval places away from 0.5."""
    import pandas as pd

    from bonkl.study import kl_constrained as study

    m = np.unique(np.round(np.logspace(2, 6, 12)).astype(int))
    straight = pd.DataFrame({"delta": 0.1, "m": m, "kl_bon_to_tilt": (0.5 * np.log(m) - 1) / m,
                             "reverse_computed": m <= 1000,
                             "log_kl_tilt_to_bon": 0.05 * m - 7.0, "reverse_exponent": 0.05})
    fit = study.rate_fit(straight).iloc[0]
    assert fit["a"] == pytest.approx(0.5, rel=1e-12) and fit["c"] == pytest.approx(0.05)
    assert fit["a_low"] <= 0.5 <= fit["a_high"] and fit["c_over_delta"] == pytest.approx(0.5)
    assert not fit["exponent_fitted"] and fit["c3"] == 0  # three reverse points: no 3-term fit
    bent = straight.assign(kl_bon_to_tilt=(0.5 * np.log(m) + 0.01 * np.log(m) ** 2) / m)
    fit = study.rate_fit(bent).iloc[0]
    assert fit["a_low"] > 0.5
