"""Win rates of best-of-n (paper A, section 5): hand cases, mpmath, hypothesis, sampling.

The exact win rate is checked against cases worked by hand, against an mpmath evaluation of
the definition (n up to 1e12, masses down to 1e-300, relative error 1e-10), against the
theorem and the bounds over random references, and against sampled pairs, whose 95%
interval must cover the exact value at its nominal rate over many seeds.
"""

from __future__ import annotations

import math

import mp_reference as mpr
import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats
from test_properties import ns, references

from bonkl import bestofn
from bonkl.groups import reward_groups
from bonkl.plumbing.seeding import generator
from bonkl.references import build_reference
from bonkl.study import winrate

TIED_P = np.array([0.2, 0.3, 0.1, 0.4])
TIED_R = np.array([1.0, 1.0, 0.0, 2.0])
SETTINGS = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize("n", [1, 2, 5, 40])
def test_fair_binary_by_hand(n):
    """Two equally likely rewards: W_n = 3/4 − 2^-n/2 (loses only to a top draw when both low)."""
    assert bestofn.win_rate([0.5, 0.5], [0.0, 1.0], n) == pytest.approx(0.75 - 0.5**n / 2,
                                                                        rel=1e-15)


def test_ties_by_hand():
    """p=(.2,.3,.1,.4), r=(1,1,0,2), n=3: groups won .001, .215, .784; mid-ranks .05, .35, .8."""
    want = 0.001 * 0.05 + 0.215 * 0.35 + 0.784 * 0.8
    assert bestofn.win_rate(TIED_P, TIED_R, 3) == pytest.approx(want, rel=1e-14)


def test_best_of_one_is_a_coin_flip():
    """n = 1 plays the reference against itself: W = 1/2 exactly, ties or not."""
    for p, r in [(TIED_P, TIED_R), ([1.0], [3.0]), (np.full(7, 1 / 7), np.arange(7.0))]:
        assert bestofn.win_rate(p, r, 1) == pytest.approx(0.5, abs=1e-15)


def test_array_n_matches_scalar_n():
    ns_ = np.array([[1.0, 2.0, 3.5], [10.0, 1e6, 1e12]])
    values = bestofn.win_rate(TIED_P, TIED_R, ns_)
    assert values.shape == ns_.shape
    for n, value in zip(ns_.ravel(), values.ravel(), strict=True):
        assert value == bestofn.win_rate(TIED_P, TIED_R, float(n))


def test_uniform_tends_to_the_continuous_limit():
    """Uniform over L distinct rewards: n/(n+1) − W_n -> 0 as L grows, like 1/L²."""
    n = 10
    gaps = [n / (n + 1) - bestofn.win_rate(np.full(size, 1 / size), np.arange(size), n)
            for size in (10, 100, 1000)]
    assert gaps[0] > 0 and gaps[1] == pytest.approx(gaps[0] / 100, rel=0.05)
    assert gaps[2] == pytest.approx(gaps[1] / 100, rel=0.05)


@pytest.mark.parametrize("case", ["tiny_top", "tiny_everywhere", "ties", "huge_alphabet"])
@pytest.mark.parametrize("n", [2, 3, 10, 1e3, 1e6, 1e9, 1e12])
def test_accuracy_against_mpmath(case, n):
    """Relative error at most 1e-10 against the definition evaluated with mpmath."""
    rng = generator(1, "win rate accuracy", case)
    if case == "tiny_top":
        p = np.array([0.5, 0.3, 0.2 - 1e-300, 1e-300])
        r = np.arange(4.0)
    elif case == "tiny_everywhere":
        p = np.r_[1e-300, 1e-200, 1e-30, 1e-12, 1.0]
        p = p / p.sum()
        r = np.array([4.0, 3.0, 2.0, 1.0, 0.0])
    elif case == "ties":
        p = rng.dirichlet(np.full(30, 0.3))
        r = rng.integers(0, 6, 30).astype(float)
    else:
        p = rng.dirichlet(np.ones(300))
        r = rng.permutation(300).astype(float)
    want = mpr.win_rate(p, r, n)
    got = bestofn.win_rate(p, r, n)
    assert abs(got - float(want)) <= 1e-10 * float(want)


@SETTINGS
@given(references(), ns)
def test_win_rate_theorem_and_bounds(reference, n):
    """1/2 <= W_n <= n/(n+1); the tie-group gap bound; W_n <= 1 − p(C*)/2; nondecreasing in n."""
    p, r = reference
    w = bestofn.win_rate(p, r, n)
    assert 0.5 - 1e-12 <= w <= n / (n + 1) + 1e-12
    mass = reward_groups(p, r).mass
    assert n / (n + 1) - w <= winrate.win_rate_gap_bound(mass, n) + 1e-12
    assert w <= 1 - bestofn.top_mass(p, r) / 2 + 1e-12
    assert bestofn.win_rate(p, r, 2 * n) >= w - 1e-12


def test_reported_gap_bound_fails_with_split_ties():
    """Splitting tie groups leaves W_n unchanged but shrinks Σ_y p²: the outcome form of the
    reported bound fails for two equally likely rewards, each shared by many outcomes."""
    k = 1000
    p = np.full(2 * k, 0.5 / k)
    r = np.r_[np.zeros(k), np.ones(k)]
    n = 2
    gap = n / (n + 1) - bestofn.win_rate(p, r, n)
    assert gap > winrate.win_rate_gap_bound(p, n)  # the reported form fails
    assert gap <= winrate.win_rate_gap_bound(reward_groups(p, r).mass, n)


# --------------------------------------------------------------------------- sampling


def test_sampled_interval_covers_at_its_nominal_rate():
    """400 seeds of 400 pairs: the number of 95% intervals covering the exact W_n must be a
    plausible Binomial(400, 0.95) draw (two-sided, false alarm below 1e-6 per side)."""
    table = build_reference({"name": "u", "family": "uniform", "size": 10}, seed=0)
    p, r = table["prob"].to_numpy(), table["reward"].to_numpy()
    n, seeds, pairs = 3, 400, 400
    exact = bestofn.win_rate(p, r, n)
    covered = 0
    for seed in range(seeds):
        _, low, high = winrate.sampled_win_rate(
            p, r, lambda size, g: bestofn.sample(p, r, n, size, g), pairs,
            generator(seed, "coverage"))
        covered += low <= exact <= high
    assert stats.binom.cdf(covered, seeds, 0.95) > 1e-6, covered
    assert stats.binom.sf(covered - 1, seeds, 0.95) > 1e-6, covered


def test_sampled_scores_count_ties_half():
    """Always drawing the reference's one outcome ties every pair: W = 1/2, no spread."""
    mean, low, high = winrate.sampled_win_rate(
        [1.0], [2.0], lambda size, g: np.zeros(size, dtype=int), 50, generator(0, "ties"))
    assert (mean, low, high) == (0.5, 0.5, 0.5)


def test_sampled_win_rate_rejects_one_pair():
    with pytest.raises(ValueError, match="pairs must be >= 2"):
        winrate.sampled_win_rate(TIED_P, TIED_R, lambda size, g: np.zeros(size, int), 1,
                                 generator(0))


def test_by_n_table_columns_agree():
    table = winrate.win_rate_by_n(TIED_P, TIED_R, [1, 3, 100])
    np.testing.assert_allclose(table["gap"], table["win_rate_bound"] - table["win_rate"])
    assert table["win_rate"].iloc[1] == pytest.approx(0.7025, rel=1e-14)
    assert (table["shortfall"] >= -1e-12).all()
    assert table["win_rate_limit"].iloc[0] == pytest.approx(0.8, rel=1e-15)
    assert math.isclose(table["kl_formula"].iloc[2], math.log(100) - 0.99, rel_tol=1e-15)
