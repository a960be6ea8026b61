"""The win-rate/KL trade-off (paper A, section 7): the continuous optimum against mpmath,
the discrete optimum (mid-rank tilt) against random competitors, best-of-n at a given KL."""

from __future__ import annotations

import math

import mp_reference as mpr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import references

from bonkl import bestofn, tilt, tradeoff
from bonkl.divergence import kl_from_logs
from bonkl.plumbing.seeding import generator

TIED_P = np.array([0.2, 0.3, 0.1, 0.4])
TIED_R = np.array([1.0, 1.0, 0.0, 2.0])


def test_mid_rank_by_hand():
    """(F + F⁻)/2 per outcome; a zero-mass outcome gets the value its reward would have."""
    np.testing.assert_allclose(tradeoff.mid_rank_reward(TIED_P, TIED_R), [0.35, 0.35, 0.05, 0.8],
                               rtol=0, atol=2e-16)
    np.testing.assert_allclose(tradeoff.mid_rank_loss(TIED_P, TIED_R), [0.65, 0.65, 0.95, 0.2],
                               rtol=1e-15)
    np.testing.assert_allclose(tradeoff.mid_rank_reward([0.5, 0.0, 0.5, 0.0], [0, 5, 1, 0.5]),
                               [0.25, 1.0, 0.75, 0.5], rtol=1e-15)


@pytest.mark.parametrize("lam", [1e-8, 1e-4, 0.019, 0.021, 0.5, 1.0, 2.0, 10.0, 100.0, 1e3])
def test_continuous_optimum_against_mpmath(lam):
    """KL and W of g_λ against numerical integration at 50 digits: relative error <= 1e-10."""
    kl, win = tradeoff.continuous_optimum(lam)
    want_kl, want_win = mpr.continuous_optimum(lam)
    assert abs(kl - float(want_kl)) <= 1e-10 * float(want_kl)
    assert abs(win - float(want_win)) <= 1e-10 * float(want_win)
    assert abs((1 - win) - float(1 - want_win)) <= 1e-10 * float(1 - want_win)


def test_continuous_optimum_inverse_and_limits():
    for lam in [0.01, 1.0, 30.0, 1e4]:
        kl, win = tradeoff.continuous_optimum(lam)
        assert tradeoff.continuous_optimum_win_rate(kl) == pytest.approx(win, rel=1e-12)
    assert tradeoff.continuous_optimum_win_rate(0.0) == 0.5
    kl, win = tradeoff.continuous_optimum(np.array([1e6]))
    assert kl[0] == pytest.approx(math.log(1e6) - 1, rel=1e-6) and win[0] == pytest.approx(1 - 1e-6)


def test_continuous_best_of_n_just_below_optimum():
    """Beta(n, 1) at KL log n − (n−1)/n has W = n/(n+1): below the optimum by a shortfall
    that shrinks with n (about 9e-3 at n = 2, 5e-10 at n = 999)."""
    shortfalls = [tradeoff.continuous_optimum_win_rate(bestofn.kl_formula(n)) - n / (n + 1)
                  for n in [2, 10, 100, 999]]
    assert all(a > b > 0 for a, b in zip(shortfalls, shortfalls[1:], strict=False))
    assert shortfalls[0] < 1e-2 and shortfalls[-1] < 1e-9


def test_discrete_optimum_tends_to_the_continuous_one():
    """Uniform over 1000 distinct rewards: the mid-rank tilt's curve is the continuous one."""
    p = np.full(1000, 1e-3)
    kls, wins = tradeoff.optimum_curve(p, np.arange(1000.0), np.geomspace(1e-3, 1.0, 9))
    for kl, win in zip(kls, wins, strict=True):
        assert win == pytest.approx(tradeoff.continuous_optimum_win_rate(kl), abs=1e-3)


def test_optimum_curve_against_mpmath_tilt():
    """W of G_β = Σ tilt(p, m, 1/β) · m with the tilt evaluated by mpmath."""
    m = tradeoff.mid_rank_reward(TIED_P, TIED_R)
    kls, wins = tradeoff.optimum_curve(TIED_P, TIED_R, [0.05, 0.5, 5.0])
    for beta, kl, win in zip([0.05, 0.5, 5.0], kls, wins, strict=True):
        target = mpr.tilt(TIED_P, m, 1 / beta)
        assert win == pytest.approx(float(sum(t * mi for t, mi in zip(target, m, strict=True))),
                                    rel=1e-13)
        assert kl == pytest.approx(float(mpr.kl_between(target, TIED_P)), rel=1e-12)
    assert tradeoff.optimum_curve(TIED_P, TIED_R, [0.0])[1][0] == pytest.approx(0.8, rel=1e-15)


@settings(max_examples=100, deadline=None)
@given(references(tiny=False, zeros=False), st.integers(0, 2**32 - 1))
def test_no_policy_beats_the_optimum(reference, seed):
    """Random policies π (Dirichlet around p): W(π) <= the optimum at KL(π ‖ p)."""
    p, r = reference
    m = tradeoff.mid_rank_reward(p, r)
    rng = generator(seed, "competitors")
    cap = tilt.kl_cap(p, r)
    for _ in range(5):
        pi = rng.dirichlet(p * 5 + 0.05)
        kl = float(kl_from_logs(np.log(pi), np.log(p)))
        optimum = tradeoff.optimum_win_rate(p, r, [max(0.0, min(kl, cap))])[0]
        assert pi @ m <= optimum + 1e-10


@settings(max_examples=200, deadline=None)
@given(references(), st.floats(1.0, 1e6))
def test_best_of_n_below_the_optimum(reference, n):
    p, r = reference
    kl = bestofn.kl(p, r, n)
    assert bestofn.win_rate(p, r, n) <= tradeoff.optimum_win_rate(p, r, [kl])[0] + 1e-12


def test_best_of_n_at_kl():
    """At KL(π_n) it returns (n, W_n); between two integers it interpolates; the cap is refused."""
    for n in [2, 3, 17]:
        got_n, got_w = tradeoff.best_of_n_at_kl(TIED_P, TIED_R, bestofn.kl(TIED_P, TIED_R, n))
        assert got_n == pytest.approx(n, rel=1e-12)
        assert got_w == pytest.approx(bestofn.win_rate(TIED_P, TIED_R, n), rel=1e-12)
    k3, k4 = bestofn.kl(TIED_P, TIED_R, np.array([3.0, 4.0]))
    w3, w4 = bestofn.win_rate(TIED_P, TIED_R, np.array([3.0, 4.0]))
    n, w = tradeoff.best_of_n_at_kl(TIED_P, TIED_R, 0.25 * k3 + 0.75 * k4)
    assert n == pytest.approx(3.75) and w == pytest.approx(0.25 * w3 + 0.75 * w4)
    assert tradeoff.best_of_n_at_kl(TIED_P, TIED_R, 0.0) == (1.0, 0.5)
    with pytest.raises(ValueError, match="must lie in"):
        tradeoff.best_of_n_at_kl(TIED_P, TIED_R, math.log(1 / 0.4))


@pytest.mark.parametrize("masses", [[1e-40, 1e-50], [1e-290, 1e-300]])
def test_best_of_n_at_kl_beyond_2_to_the_100(masses):
    """Staircases whose second step needs n far above 2^101, where the search used to stop
    (the winrate job failed on masses 1e-40, 1e-50): rewinding to the top two groups has KL
    log 1/(m1 + m2), 92 and 668 nats here; best-of-n reaches it and the win rate matches."""
    p = np.array([(1 - sum(masses)) / 10] * 10 + masses)
    r = np.arange(12.0)
    delta = -math.log(sum(masses))
    n, w = tradeoff.best_of_n_at_kl(p, r, delta)
    assert bestofn.kl(p, r, n) == pytest.approx(delta, rel=1e-9)
    assert bestofn.kl(p, r, n / 2) < delta
    assert w == pytest.approx(bestofn.win_rate(p, r, n), rel=1e-12)


@pytest.mark.parametrize("n", [1.0, 1.5, 10.0, 999.0, 1e9])
def test_formula_n_at_kl_inverts_the_formula(n):
    assert tradeoff.formula_n_at_kl(bestofn.kl_formula(n)) == pytest.approx(n, rel=1e-9)
