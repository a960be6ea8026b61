"""The tilted family: KL-constrained optimum, reverse- and forward-KL targets (papers B, C).

Hand-worked cases, mpmath at high precision in the hard regimes (tiny KL, KL at the cap,
β down to 1e-8, reward gaps whose exponentials overflow), and the optimality of each
target checked against random competitors of its own objective.
"""

from __future__ import annotations

import math

import mp_reference as mpr
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from bonkl import tilt

COIN_P, COIN_R = np.array([0.5, 0.5]), np.array([0.0, 1.0])
SKEWED_P = np.array([0.6, 0.3, 0.0999, 1e-4])
SKEWED_R = np.array([0.0, 0.5, 0.9, 1.0])


def test_coin_tilt_by_hand():
    """p = (1/2, 1/2), r = (0, 1): φ_λ = (1, e^λ)/(1 + e^λ), KL = log 2 − h(φ_λ(1))."""
    lam = 1.3
    phi = np.exp(tilt.log_tilt(COIN_P, COIN_R, lam))
    q = math.exp(lam) / (1 + math.exp(lam))
    np.testing.assert_allclose(phi, [1 - q, q], rtol=1e-15)
    entropy = -q * math.log(q) - (1 - q) * math.log(1 - q)
    assert tilt.tilt_kl(COIN_P, COIN_R, lam) == pytest.approx(math.log(2) - entropy, rel=1e-14)
    assert tilt.cgf(COIN_P, COIN_R, lam) == pytest.approx(math.log((1 + math.exp(lam)) / 2),
                                                          rel=1e-15)
    assert tilt.kl_cap(COIN_P, COIN_R) == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize("delta", [1e-10, 1e-6, 1e-3, 0.1, 1.0, 5.0, 9.2, 9.21])
def test_kl_constrained_meets_delta_and_matches_mpmath(delta):
    """KL(φ_Δ ‖ p) = Δ within 1e-10 from Δ = 1e-10 to just below the cap log 1e4 = 9.2103."""
    phi, lam = tilt.kl_constrained(SKEWED_P, SKEWED_R, delta)
    assert abs(tilt.tilt_kl(SKEWED_P, SKEWED_R, lam) - delta) <= 1e-10 * max(1.0, delta)
    exact = mpr.tilt(SKEWED_P, SKEWED_R, lam)
    assert float(abs(mpr.kl_between(exact, SKEWED_P) - delta)) <= 1e-12 * max(1.0, delta)
    np.testing.assert_allclose(phi, [float(x) for x in exact], rtol=1e-11, atol=0)
    assert phi.sum() == pytest.approx(1.0, abs=1e-15)


def test_kl_constrained_at_and_beyond_the_cap():
    cap = tilt.kl_cap(SKEWED_P, SKEWED_R)
    for delta in (cap, cap + 1.0):
        phi, lam = tilt.kl_constrained(SKEWED_P, SKEWED_R, delta)
        assert lam == np.inf
        np.testing.assert_array_equal(phi, [0, 0, 0, 1])
    phi, lam = tilt.kl_constrained(SKEWED_P, SKEWED_R, 0.0)
    assert lam == 0
    np.testing.assert_allclose(phi, SKEWED_P, rtol=1e-15)
    with pytest.raises(ValueError, match="delta"):
        tilt.kl_constrained(SKEWED_P, SKEWED_R, -1e-3)


@pytest.mark.parametrize("shortfall", [1e-17, 1e-15, 1e-13, 1e-11])
def test_kl_constrained_just_below_the_cap_returns(shortfall):
    """Δ a few ulps under log 1/p(C*): the tilt is p(·|C*) in doubles, returned, not searched."""
    cap = tilt.kl_cap(SKEWED_P, SKEWED_R)
    phi, lam = tilt.kl_constrained(SKEWED_P, SKEWED_R, cap * (1 - shortfall))
    assert phi[-1] == pytest.approx(1.0, abs=1e-9)
    assert tilt.tilt_kl(SKEWED_P, SKEWED_R, lam) == pytest.approx(cap, rel=1e-9)


@pytest.mark.parametrize("delta", [1e-300, 1e-40, 1e-21])
def test_kl_constrained_tiny_delta_by_first_order(delta):
    """KL(φ_λ ‖ p) = λ² Var/2 + O(λ³): λ = sqrt(2Δ/Var) to relative 1e-9 (checked in mpmath)."""
    phi, lam = tilt.kl_constrained(SKEWED_P, SKEWED_R, delta)
    with mp.workdps(400):
        total = mp.fsum(mp.mpf(x) for x in SKEWED_P)
        p = [mp.mpf(x) / total for x in SKEWED_P]  # the doubles sum to 1 - 1.1e-16
        exact = mpr.kl_between(mpr.tilt(p, SKEWED_R, mp.mpf(lam)), p)
        assert float(exact / delta) == pytest.approx(1.0, rel=1e-9)
    np.testing.assert_allclose(phi, SKEWED_P, rtol=1e-9)


def test_kl_constrained_with_ties_and_zero_mass():
    p, r = np.array([0.2, 0.0, 0.3, 0.5]), np.array([1.0, 5.0, 1.0, 0.0])
    phi, lam = tilt.kl_constrained(p, r, 0.3)
    assert phi[1] == 0 and phi[0] / phi[2] == pytest.approx(2 / 3, rel=1e-14)
    assert tilt.tilt_kl(p, r, lam) == pytest.approx(0.3, rel=1e-13)


@pytest.mark.parametrize("beta", [1e-8, 1e-4, 0.05, 1.0, 1e4])
def test_reverse_target_is_finite_and_exact(beta):
    """Reward gaps of 1000: e^{r/β} overflows doubles for every β < 1.4, the target does not."""
    p = np.array([0.7, 0.2, 0.0999999, 1e-7])
    r = np.array([0.0, 1000.0, 999.99, 1000.0 - 1e-6])
    target = tilt.reverse_kl_target(p, r, beta)
    assert np.all(np.isfinite(target)) and target.sum() == pytest.approx(1.0, abs=1e-15)
    with mp.workdps(200):
        exact = mpr.tilt(p, r, 1 / mp.mpf(beta))
    for got, want in zip(target, exact, strict=True):
        if want > 1e-300:
            assert got == pytest.approx(float(want), rel=1e-9)
    np.testing.assert_array_equal(tilt.reverse_kl_target(p, r, 0.0), [0, 1, 0, 0])


@pytest.mark.parametrize("beta", [1e-8, 1e-5, 1e-2, 1.0, 1e2, 1e4])
def test_forward_target_root_to_machine_precision(beta):
    target, lam = tilt.forward_kl_target(SKEWED_P, SKEWED_R, beta)
    exact, exact_lam = mpr.forward_target(SKEWED_P, SKEWED_R, beta)
    # Λ - max r is the computed quantity; compare it, not Λ, at small β
    assert lam - 1.0 == pytest.approx(float(exact_lam - 1), rel=1e-13)
    np.testing.assert_allclose(target, [float(x) for x in exact], rtol=1e-12)
    assert target.sum() == pytest.approx(1.0, abs=1e-15)
    assert 1.0 + beta * 1e-4 * (1 - 1e-12) <= lam <= 1.0 + beta * (1 + 1e-12)


def test_forward_target_limits():
    """β → 0: mass piles on C*; β → ∞: the reference."""
    small, _ = tilt.forward_kl_target(SKEWED_P, SKEWED_R, 1e-8)
    assert small[-1] > 0.99
    large, _ = tilt.forward_kl_target(SKEWED_P, SKEWED_R, 1e8)
    np.testing.assert_allclose(large, SKEWED_P, rtol=1e-7)


def test_forward_target_off_support_by_hand():
    """p = (1/2, 1/2, 0), r = (0, 1, 2), β = 0.1: the supported root Λ₀ ≈ 1.05 < 2, so Λ = 2.

    Then G = (0.1·0.5/2, 0.1·0.5/1, rest) = (0.025, 0.05, 0.925).
    """
    target, lam = tilt.forward_kl_target([0.5, 0.5, 0.0], [0.0, 1.0, 2.0], 0.1)
    assert lam == 2.0
    np.testing.assert_allclose(target, [0.025, 0.05, 0.925], rtol=1e-14)
    kept, lam = tilt.forward_kl_target([0.5, 0.5, 0.0], [0.0, 1.0, 1.01], 0.1)
    assert kept[2] == 0 and lam > 1.01


def _reference(draw_p, draw_r):
    p = np.asarray(draw_p, dtype=float)
    return p / p.sum(), np.asarray(draw_r, dtype=float)


references = st.integers(2, 6).flatmap(lambda k: st.tuples(
    st.lists(st.floats(1e-6, 1.0), min_size=k, max_size=k),
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0]), min_size=k, max_size=k)))


@settings(max_examples=60, deadline=None)
@given(references, st.floats(1e-3, 10.0), st.integers(0, 2**32 - 1))
def test_targets_beat_every_competitor_on_their_objective(reference, beta, seed):
    """G_β maximises E r − β KL(π ‖ p); G_fwd maximises E r − β KL(p ‖ π) (random rivals)."""
    p, r = _reference(*reference)
    rivals = np.random.default_rng(seed).dirichlet(np.ones(p.size), size=200)
    rivals = np.vstack([rivals, 0.9 * p + 0.1 * rivals[0]])

    def reverse(pi):
        return pi @ r - beta * np.sum(special.xlogy(pi, pi / p), axis=-1)

    def forward(pi):
        return pi @ r - beta * np.sum(p * np.log(p / pi), axis=-1)

    target = tilt.reverse_kl_target(p, r, beta)
    assert reverse(target) >= reverse(rivals).max() - 1e-12
    target, _ = tilt.forward_kl_target(p, r, beta)
    assert forward(target) >= forward(rivals).max() - 1e-12


@settings(max_examples=60, deadline=None)
@given(references, st.floats(0.0, 1.0))
def test_kl_constrained_frontier_is_monotone(reference, fraction):
    """Reward rises with Δ; the slope of the frontier dE/dΔ is 1/λ (paper B)."""
    p, r = _reference(*reference)
    cap = tilt.kl_cap(p, r)
    delta = fraction * cap * 0.98
    if delta < 1e-6:
        return
    phi, lam = tilt.kl_constrained(p, r, delta)
    step = 1e-5 * delta
    phi_up, _ = tilt.kl_constrained(p, r, delta + step)
    slope = (phi_up @ r - phi @ r) / step
    assert phi_up @ r >= phi @ r - 1e-15
    assert slope == pytest.approx(1 / lam, rel=1e-3)
