"""Unit tests of bonkl.bestofn on cases worked by hand (paper A, digest best_of_n.md)."""

from __future__ import annotations

import math

import mp_reference
import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from bonkl import bestofn
from bonkl.plumbing.seeding import generator
from bonkl.references import build_reference

LOG2 = math.log(2.0)


def binary_entropy(x: float) -> float:
    """``h(x)`` in nats, written out by hand."""
    return -x * math.log(x) - (1.0 - x) * math.log1p(-x)


# --------------------------------------------------------------------------- pmf


def test_pmf_uniform_four_distinct_n2():
    """Uniform over 4 distinct rewards at n=2: π(k) = ((k+1)² - k²)/16 for reward rank k."""
    p = np.full(4, 0.25)
    r = np.array([2.0, 0.0, 3.0, 1.0])  # ranks 2, 0, 3, 1
    rank = np.argsort(np.argsort(r))
    expected = ((rank + 1) ** 2 - rank**2) / 16.0
    np.testing.assert_allclose(bestofn.pmf(p, r, 2), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("n", [1, 2, 3, 7.5, 100, 1e6])
def test_pmf_sums_to_one(n):
    """The pmf is a probability vector for a reference with ties and zero masses."""
    p = np.array([0.1, 0.0, 0.3, 0.2, 0.25, 0.15])
    r = np.array([0.0, 5.0, 1.0, 1.0, 2.0, 0.0])
    pi = bestofn.pmf(p, r, n)
    assert np.all(pi >= 0)
    assert abs(pi.sum() - 1.0) < 1e-14


def test_pmf_with_ties_hand_case():
    """p=(.2,.3,.1,.4), r=(1,1,0,2), n=3: tie group {0,1} gets 0.6³-0.1³ split 2:3."""
    p = np.array([0.2, 0.3, 0.1, 0.4])
    r = np.array([1.0, 1.0, 0.0, 2.0])
    group = 0.6**3 - 0.1**3
    expected = np.array([0.4 * group, 0.6 * group, 0.1**3, 1.0 - 0.6**3])
    np.testing.assert_allclose(bestofn.pmf(p, r, 3), expected, rtol=1e-13, atol=0)


def test_pmf_at_n1_is_reference():
    """Best-of-1 is the reference itself."""
    p = np.array([0.2, 0.3, 0.1, 0.4])
    r = np.array([1.0, 1.0, 0.0, 2.0])
    np.testing.assert_allclose(bestofn.pmf(p, r, 1), p, rtol=1e-15, atol=0)


def test_pmf_array_n_shape():
    """An array of n gives one pmf row per n, each equal to the scalar-n pmf."""
    p = np.array([0.2, 0.3, 0.1, 0.4])
    r = np.array([1.0, 1.0, 0.0, 2.0])
    ns = np.array([1.0, 2.0, 3.0, 10.0, 1e9])
    out = bestofn.pmf(p, r, ns)
    assert out.shape == (ns.size, p.size)
    for row, n in zip(out, ns, strict=True):
        np.testing.assert_allclose(row, bestofn.pmf(p, r, float(n)), rtol=1e-15, atol=0)


def test_pmf_zero_mass_outcomes_get_zero():
    """Zero-mass outcomes are accepted and get pmf exactly 0, even with the top reward."""
    p = np.array([0.5, 0.0, 0.5, 0.0])
    r = np.array([0.0, 10.0, 1.0, 0.5])
    pi = bestofn.pmf(p, r, 3)
    assert pi[1] == 0.0 and pi[3] == 0.0
    np.testing.assert_allclose(pi[[0, 2]], [0.125, 0.875], rtol=1e-15)


# --------------------------------------------------------------------------- KL


@pytest.mark.parametrize(
    ("p", "r"),
    [
        ([0.5, 0.5], [0.0, 1.0]),
        ([0.2, 0.3, 0.1, 0.4], [1.0, 1.0, 0.0, 2.0]),
        ([1.0], [3.0]),
    ],
)
def test_kl_at_n1_is_exactly_zero(p, r):
    """KL(π_1 ‖ p) is exactly 0."""
    assert bestofn.kl(p, r, 1) == 0.0


def test_kl_binary_n2_by_hand():
    """Two equal outcomes at n=2: π=(1/4, 3/4), KL = ¼ log ½ + ¾ log 3/2."""
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert bestofn.kl([0.5, 0.5], [0.0, 1.0], 2) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 10, 30, 60])
def test_kl_binary_closed_form(n):
    """Two equal outcomes: KL = log 2 - h(2^-n) (paper A, worked example)."""
    expected = LOG2 - binary_entropy(2.0**-n)
    assert bestofn.kl([0.5, 0.5], [0.0, 1.0], n) == pytest.approx(expected, rel=1e-13, abs=1e-300)
    assert bestofn.binary_kl_closed_form(n) == pytest.approx(expected, rel=1e-13, abs=1e-300)


def test_kl_formula_values():
    """kl_formula(1) = 0 and kl_formula(2) = log 2 - 1/2; arrays broadcast."""
    assert bestofn.kl_formula(1) == 0.0
    assert bestofn.kl_formula(2) == pytest.approx(LOG2 - 0.5, rel=1e-15)
    np.testing.assert_allclose(
        bestofn.kl_formula(np.array([1.0, 2.0, 10.0])),
        [0.0, LOG2 - 0.5, math.log(10.0) - 0.9],
        rtol=1e-15,
        atol=0,
    )


def test_kl_return_types():
    """kl returns a Python float for scalar n and an array of n's shape for array n."""
    p, r = [0.2, 0.3, 0.1, 0.4], [1.0, 1.0, 0.0, 2.0]
    scalar = bestofn.kl(p, r, 3)
    assert type(scalar) is float
    ns = np.array([1.0, 2.0, 3.0])
    out = bestofn.kl(p, r, ns)
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    assert out[2] == pytest.approx(scalar, rel=1e-15)
    assert out[0] == 0.0


@pytest.mark.parametrize("n", [1, 2, 10, 1e6, 1e15])
def test_kl_all_tied_is_zero(n):
    """When every reward is tied, best-of-n is the reference: KL = 0 for every n."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    r = np.full(4, 7.0)
    assert bestofn.kl(p, r, n) == pytest.approx(0.0, abs=1e-300)
    np.testing.assert_allclose(bestofn.pmf(p, r, n), p, rtol=1e-15)


def test_kl_ignores_zero_mass_outcomes():
    """Adding zero-mass outcomes (even with the best reward) leaves KL unchanged."""
    base = bestofn.kl([0.3, 0.7], [0.0, 1.0], 5)
    padded = bestofn.kl([0.3, 0.0, 0.7, 0.0], [0.0, 9.0, 1.0, -2.0], 5)
    assert padded == pytest.approx(base, rel=1e-15)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "p",
    [
        [0.5, 0.4],  # sums to 0.9
        [0.6, 0.6],  # sums to 1.2
        [1.2, -0.2],  # negative
        [np.nan, 1.0],  # NaN
        [np.inf, 0.0],  # inf
    ],
)
def test_bad_reference_raises(p):
    """p not summing to 1, negative, or non-finite raises ValueError in every entry point."""
    r = [0.0, 1.0]
    for call in (
        lambda: bestofn.pmf(p, r, 2),
        lambda: bestofn.kl(p, r, 2),
        lambda: bestofn.expected_kl_estimator(p, r, 2),
        lambda: bestofn.sample(p, r, 2, 5, np.random.default_rng(0)),
    ):
        with pytest.raises(ValueError):
            call()


@pytest.mark.parametrize("n", [0, 0.5, 0.999, -1, np.nan, np.inf])
def test_bad_n_raises(n):
    """n < 1 (or non-finite) raises ValueError."""
    p, r = [0.5, 0.5], [0.0, 1.0]
    for call in (
        lambda: bestofn.pmf(p, r, n),
        lambda: bestofn.kl(p, r, n),
        lambda: bestofn.kl_formula(n),
        lambda: bestofn.kl_estimator(0.5, n),
        lambda: bestofn.expected_kl_estimator(p, r, n),
    ):
        with pytest.raises(ValueError):
            call()


def test_bad_n_inside_array_raises():
    """One bad n in an array is enough to raise."""
    with pytest.raises(ValueError):
        bestofn.kl([0.5, 0.5], [0.0, 1.0], np.array([1.0, 2.0, 0.5]))


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.0 + 1e-12, 2.0, np.nan])
def test_kl_estimator_bad_eps_raises(eps):
    """The estimator needs eps in (0, 1]."""
    with pytest.raises(ValueError):
        bestofn.kl_estimator(eps, 3)


# --------------------------------------------------------------------------- estimator


@pytest.mark.parametrize("eps", [1e-300, 1e-10, 0.3, 0.5, 1.0])
def test_kl_estimator_n1_is_zero(eps):
    """D̂_1(ε) = 0: best-of-1 is the reference."""
    assert bestofn.kl_estimator(eps, 1) == 0.0  # exactly: best-of-1 is the reference


@pytest.mark.parametrize("n", [1, 2, 10, 1e6, 1e15])
def test_kl_estimator_eps1_is_zero(n):
    """D̂_n(1) = 0: a single atom carries all the mass."""
    assert bestofn.kl_estimator(1.0, n) == 0.0


@pytest.mark.parametrize("n", [1 + 1e-12, 1 + 1e-9, 1 + 1e-6, 1.001, 1.3, 2.0, 64.0, 1e9])
@pytest.mark.parametrize("eps", [1e-300, 1e-40, 1e-9, 1e-3, 0.2, 0.5, 0.9, 1 - 1e-9])
def test_kl_estimator_near_n1_against_mpmath(eps, n):
    """Near n = 1 the estimator's two parts cancel to O((n-1)²) in the paper's form; the
    library's sum of two non-negative terms keeps its relative precision there (mpmath at 80
    digits), and is never negative."""
    got = bestofn.kl_estimator(eps, n)
    with mp.workdps(80):
        want = float(mp_reference.estimator(mp.mpf(eps), mp.mpf(n)))
    assert got >= 0.0
    assert got == pytest.approx(want, rel=1e-12, abs=0.0)


def test_expected_estimator_is_zero_at_n1_and_never_negative():
    """E_π[D̂_1] = 0 exactly for references with ties, a dominant outcome and tiny masses;
    D̂_n >= 0 at every n, real n included (paper A: 0 <= D̂_n(ε))."""
    references = [([0.5, 0.3, 0.2], [1.0, 1.0, 0.0]), ([1 - 2e-12, 1e-12, 1e-12], [0, 1, 1]),
                  ([1e-300, 1 - 1e-300], [1.0, 0.0]), ([0.25] * 4, [3.0] * 4)]
    n = np.array([1.0, 1 + 1e-10, 1.5, 2.0, 10.0, 1e6])
    for p, r in references:
        values = bestofn.expected_kl_estimator(p, r, n)
        assert values[0] == 0.0
        assert np.all(values >= 0.0)


def test_kl_estimator_tiny_eps_is_formula():
    """As ε → 0 the estimator tends to the formula: ε=1e-300, n=100."""
    assert bestofn.kl_estimator(1e-300, 100) == pytest.approx(
        bestofn.kl_formula(100), rel=0, abs=1e-12
    )


def test_kl_estimator_hand_value():
    """ε=1/2, n=2: ¼(log 2 + log ½ - ½) + ¾ log(¾ / ½)."""
    expected = 0.25 * (LOG2 + math.log(0.5) - 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert bestofn.kl_estimator(0.5, 2) == pytest.approx(expected, rel=1e-14)


def test_kl_estimator_broadcasts():
    """Array eps against scalar n gives an array equal to the scalar calls."""
    eps = np.array([1e-6, 0.1, 0.5])
    out = bestofn.kl_estimator(eps, 7)
    assert out.shape == (3,)
    for e, v in zip(eps, out, strict=True):
        assert v == pytest.approx(bestofn.kl_estimator(float(e), 7), rel=1e-15)


def test_kl_estimator_is_exact_kl_of_one_top_atom():
    """D̂_n(ε) is the exact KL for a near-continuous bulk with a top atom ε.

    Bulk: 10^5 equal outcomes sharing 1 - ε; the bulk's discreteness moves the KL by
    O(n/bulk), far below the tolerance.
    """
    bulk, eps, n = 100_000, 0.01, 20
    p = np.r_[np.full(bulk, (1.0 - eps) / bulk), eps]
    r = np.arange(bulk + 1.0)
    assert bestofn.kl(p, r, n) == pytest.approx(bestofn.kl_estimator(eps, n), rel=1e-3)


def test_expected_kl_estimator_hand_case():
    """E_π[D̂_n(p(y))] summed by hand for p=(.2,.3,.1,.4), r=(1,1,0,2), n=3."""
    p = np.array([0.2, 0.3, 0.1, 0.4])
    r = np.array([1.0, 1.0, 0.0, 2.0])
    pi = bestofn.pmf(p, r, 3)
    expected = sum(pi[i] * bestofn.kl_estimator(p[i], 3) for i in range(4))
    assert bestofn.expected_kl_estimator(p, r, 3) == pytest.approx(expected, rel=1e-13)


# --------------------------------------------------------------------------- sampler

# Ties (rewards 1, 3, 6), unequal masses inside groups, and a zero-mass top outcome.
SAMPLER_P = np.array([0.3, 0.25, 0.15, 0.1, 0.1, 0.05, 0.03, 0.01, 0.007, 0.003, 0.0])
SAMPLER_R = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 6.0, 6.0, 7.0])
SAMPLER_DRAWS = 20_000


def _pooled_chisquare(observed: np.ndarray, expected: np.ndarray) -> float:
    """Chi-square p-value, pooling the cells with an expected count below 5."""
    small = expected < 5
    obs = list(observed[~small])
    exp = list(expected[~small])
    if small.any() and expected[small].sum() > 0:
        obs.append(observed[small].sum())
        exp.append(expected[small].sum())
    exp = np.asarray(exp)
    exp *= np.sum(obs) / exp.sum()
    return float(stats.chisquare(obs, exp).pvalue)


@pytest.mark.parametrize("n", [3, 50])
def test_sampler_matches_pmf(n):
    """Sampled frequencies match the pmf (chi-square, fixed seed); zero mass never drawn."""
    rng = generator(2024, "sampler-chisquare", n)
    draws = bestofn.sample(SAMPLER_P, SAMPLER_R, n, SAMPLER_DRAWS, rng)
    assert draws.shape == (SAMPLER_DRAWS,)
    counts = np.bincount(draws, minlength=SAMPLER_P.size)
    assert counts[SAMPLER_P == 0].sum() == 0
    expected = bestofn.pmf(SAMPLER_P, SAMPLER_R, n) * SAMPLER_DRAWS
    assert _pooled_chisquare(counts, expected) > 1e-4


@pytest.mark.parametrize(("n", "members"), [(3, [1, 2]), (3, [4, 5]), (50, [8, 9])])
def test_sampler_within_tie_group_in_proportion_to_p(n, members):
    """Inside a tie group, draws fall in proportion to the reference masses."""
    rng = generator(2024, "sampler-ties", n, *members)
    draws = bestofn.sample(SAMPLER_P, SAMPLER_R, n, SAMPLER_DRAWS, rng)
    first = int(np.sum(draws == members[0]))
    in_group = int(np.isin(draws, members).sum())
    assert in_group > 1000  # the test has power
    share = SAMPLER_P[members[0]] / SAMPLER_P[members].sum()
    assert stats.binomtest(first, in_group, share).pvalue > 1e-4


def test_sampler_tiny_top_at_huge_n():
    """Top mass 1e-12 at n=1e12 is drawn with probability 1-(1-1e-12)^1e12 ≈ 0.632."""
    eps, n = 1e-12, 1e12
    p = np.array([0.5 - eps / 2, 0.5 - eps / 2, eps])
    r = np.array([0.0, 1.0, 2.0])
    draws = bestofn.sample(p, r, n, SAMPLER_DRAWS, generator(7, "sampler-tiny-top"))
    top_probability = -math.expm1(n * math.log1p(-eps))
    assert 0.6 < top_probability < 0.65
    top = int(np.sum(draws == 2))
    assert stats.binomtest(top, SAMPLER_DRAWS, top_probability).pvalue > 1e-4
    assert np.sum(draws == 0) == 0  # probability about 2^-1e12


def test_sampler_deterministic_given_seed():
    """Same seed, same draws; another seed, other draws."""
    a = bestofn.sample(SAMPLER_P, SAMPLER_R, 10, 500, generator(1, "det"))
    b = bestofn.sample(SAMPLER_P, SAMPLER_R, 10, 500, generator(1, "det"))
    c = bestofn.sample(SAMPLER_P, SAMPLER_R, 10, 500, generator(2, "det"))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# --------------------------------------------------------------------------- Monte Carlo


def test_estimator_monte_carlo_interval_coverage():
    """The 95% interval covers E[D̂_n] at the nominal rate over 200 independent seeds.

    Zipf(1) over 30 outcomes with randomly ranked rewards, n=10, 2000 draws each; the
    cover count must lie in the central 99.9% region of Binomial(200, 0.95). (With
    rewards increasing in rank, D̂ under π_n is very skewed and the normal interval
    undercovers, about 0.90 at 2000 draws: a limit of the normal approximation, so that
    reference is not used here.)
    """
    spec = {"name": "zipf30", "family": "zipf", "size": 30, "exponent": 1.0, "reward": "random"}
    table = build_reference(spec, 0)
    p, r = table["prob"].to_numpy(), table["reward"].to_numpy()
    n, draws, runs, level = 10, 2000, 200, 0.95
    truth = bestofn.expected_kl_estimator(p, r, n)
    values, weights = bestofn.kl_estimator(p, n), bestofn.pmf(p, r, n)
    spread = np.sqrt(np.sum(weights * (values - truth) ** 2))
    assert spread > 0.01  # the estimator is not constant under π_n (spread ≈ 0.021)
    covers = 0
    for i in range(runs):
        mean, low, high = bestofn.estimator_monte_carlo(
            p, r, n, draws, generator(12345, "cover", i), level=level
        )
        assert low < mean < high
        covers += low <= truth <= high
    lo = stats.binom.ppf(0.0005, runs, level)
    hi = stats.binom.isf(0.0005, runs, level)
    assert lo <= covers <= hi, (covers, lo, hi)
