"""Rewind-and-repeat (paper A): hand cases, the KL identity, and the sampler against a literal
resample-until-accepted loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats
from test_properties import references

from bonkl import bestofn, rewind, tradeoff
from bonkl.divergence import kl_from_logs
from bonkl.plumbing.seeding import generator
from bonkl.study import winrate

TIED_P = np.array([0.2, 0.3, 0.1, 0.4])
TIED_R = np.array([1.0, 1.0, 0.0, 2.0])


def test_hand_case():
    """τ = 1 accepts rewards 1 (mass .5, mid-rank .35) and 2 (mass .4, mid-rank .8)."""
    assert rewind.accept_mass(TIED_P, TIED_R, 1.0) == pytest.approx(0.9, rel=1e-15)
    assert rewind.kl(TIED_P, TIED_R, 1.0) == pytest.approx(math.log(1 / 0.9), rel=1e-14)
    assert rewind.expected_draws(TIED_P, TIED_R, 1.0) == pytest.approx(1 / 0.9, rel=1e-15)
    assert rewind.win_rate(TIED_P, TIED_R, 1.0) == pytest.approx((0.5 * 0.35 + 0.4 * 0.8) / 0.9,
                                                                 rel=1e-14)
    np.testing.assert_allclose(rewind.policy(TIED_P, TIED_R, 1.0), [2 / 9, 3 / 9, 0, 4 / 9],
                               rtol=1e-15)


def test_extremes():
    """The lowest threshold is the reference (KL 0, W 1/2); the top one is p(·|C*)."""
    assert rewind.kl(TIED_P, TIED_R, -5.0) == 0.0
    assert rewind.win_rate(TIED_P, TIED_R, -5.0) == pytest.approx(0.5, abs=1e-15)
    assert rewind.win_rate(TIED_P, TIED_R, 2.0) == pytest.approx(1 - 0.4 / 2, rel=1e-15)
    with pytest.raises(ValueError, match="above every reward"):
        rewind.kl(TIED_P, TIED_R, 2.5)


def test_tiny_acceptance_keeps_its_digits():
    """KL = log 1/A for A = 1e-300 (summed from the top, not 1 − F⁻)."""
    p = np.array([1 - 1e-300, 1e-300])
    assert rewind.kl(p, [0.0, 1.0], 1.0) == pytest.approx(300 * math.log(10), rel=1e-14)


@settings(max_examples=200, deadline=None)
@given(references())
def test_kl_identity_and_win_rate(reference):
    """KL(p(·|r >= τ) ‖ p) = log 1/A, computed from the policy; W between 1/2 and 1 − p(C*)/2,
    and the win rate equals Σ policy · mid-rank reward."""
    p, r = reference
    for tau in rewind.quantile_thresholds(p, r, 7):
        pi = rewind.policy(p, r, tau)
        with np.errstate(divide="ignore"):
            direct = kl_from_logs(np.log(pi), np.log(p))
        assert rewind.kl(p, r, tau) == pytest.approx(direct, rel=1e-9, abs=1e-12)
        w = rewind.win_rate(p, r, tau)
        assert w == pytest.approx(pi @ tradeoff.mid_rank_reward(p, r), abs=1e-12)
        assert 0.5 - 1e-12 <= w <= 1 - bestofn.top_mass(p, r) / 2 + 1e-12


def test_quantile_thresholds():
    """Increasing, distinct, from the lowest to the top reward; tail levels log-spaced."""
    p = np.full(1000, 1e-3)
    r = np.arange(1000.0)
    thresholds = rewind.quantile_thresholds(p, r, 4)  # tails 1, 0.1, 0.01, 0.001
    np.testing.assert_array_equal(thresholds, [0.0, 900.0, 990.0, 999.0])
    assert rewind.quantile_thresholds(TIED_P, TIED_R, 50).tolist() == [0.0, 1.0, 2.0]


def literal_rewind(p, r, tau, size, rng):
    """Resample from p until the reward reaches τ: indices and draws used, one at a time."""
    picks, draws = [], []
    for _ in range(size):
        count = 0
        while True:
            count += 1
            y = int(rng.choice(p.size, p=p))
            if r[y] >= tau:
                break
        picks.append(y)
        draws.append(count)
    return np.array(picks), np.array(draws)


def test_sampler_matches_a_literal_loop():
    """Chi-square of the sampler's and the literal loop's outcome counts against the policy
    (p-values above 1e-6), and the loop's mean draw count against 1/A (5 standard errors)."""
    p = np.array([0.35, 0.25, 0.2, 0.1, 0.06, 0.04])
    r = np.array([0.0, 1.0, 2.0, 2.0, 3.0, 4.0])
    tau = 2.0
    pi = rewind.policy(p, r, tau)
    kept = pi > 0
    ours = rewind.sample(p, r, tau, 20000, generator(0, "rewind sampler"))
    loop, draws = literal_rewind(p, r, tau, 4000, generator(1, "rewind loop"))
    for picks in (ours, loop):
        counts = np.bincount(picks, minlength=p.size)
        assert counts[~kept].sum() == 0
        assert stats.chisquare(counts[kept], picks.size * pi[kept]).pvalue > 1e-6
    mass = rewind.accept_mass(p, r, tau)
    spread = math.sqrt((1 - mass) / mass**2 / draws.size)  # sd of a geometric mean
    assert abs(draws.mean() - 1 / mass) < 5 * spread


def test_rewind_table_sampled_and_exact_agree():
    """The stage table: sampled win rates within their intervals' reach, exact columns coherent."""
    p = np.array([0.35, 0.25, 0.2, 0.1, 0.06, 0.04])
    r = np.array([0.0, 1.0, 2.0, 2.0, 3.0, 4.0])
    table = winrate.rewind_by_threshold(p, r, 5, 4000, generator(2, "rewind table"))
    assert table["at_cap"].tolist() == [False] * (len(table) - 1) + [True]
    np.testing.assert_allclose(table["expected_draws"], 1 / table["accept_mass"], rtol=1e-15)
    assert (table["optimum_win_rate"] >= table["win_rate"] - 1e-12).all()
    half = (table["sampled_high"] - table["sampled_low"]) / 2
    assert (abs(table["sampled_win_rate"] - table["win_rate"]) <= 2.5 * half + 1e-12).all()
