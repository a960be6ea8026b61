"""Hypothesis properties of best-of-n over random references with ties and tiny masses."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bonkl import bestofn

EXAMPLES = 200
N_GRID = np.array([1, 2, 3, 5, 10, 30, 100, 1e3, 1e4, 1e6, 1e9, 1e12, 1e15])
SETTINGS = settings(max_examples=EXAMPLES, deadline=None)


def tol(x) -> float:
    """Rounding allowance: 1e-12 absolute, relative above 1."""
    return 1e-12 * max(1.0, float(np.max(np.abs(x))))


@st.composite
def references(draw, max_size=30, tiny=True, zeros=True, permutation=False):
    """``(p, r)`` (and a permutation if asked): sizes 1..max_size, log-masses normalised.

    Each outcome is a "bulk" mass 10^U(-3, 0), or (when allowed) a tiny mass
    10^U(-300, -5) or exactly 0; rewards are integers from a small range so ties are
    common; sometimes a tiny outcome alone gets the top reward.
    """
    size = draw(st.integers(1, max_size))
    kinds = ["bulk", "bulk", "bulk"] + (["tiny"] if tiny else []) + (["zero"] if zeros else [])
    kind = draw(st.lists(st.sampled_from(kinds), min_size=size, max_size=size))
    log10 = np.full(size, -np.inf)
    for i, k in enumerate(kind):
        if k == "bulk":
            log10[i] = draw(st.floats(-3.0, 0.0))
        elif k == "tiny":
            log10[i] = draw(st.floats(-300.0, -5.0))
    if np.all(np.isneginf(log10)):
        log10[0] = 0.0
    p = 10.0 ** (log10 - log10.max())
    p = p / p.sum()
    levels = draw(st.integers(1, 6))
    r = np.array(draw(st.lists(st.integers(0, levels - 1), min_size=size, max_size=size)), float)
    small = np.flatnonzero((p > 0) & (p < 1e-5))
    if small.size and draw(st.booleans()):
        r[small[draw(st.integers(0, small.size - 1))]] = levels  # a tiny top group
    if permutation:
        return p, r, np.array(draw(st.permutations(list(range(size)))), dtype=int)
    return p, r


ns = st.one_of(
    st.sampled_from(N_GRID.tolist()),
    st.integers(1, 10**6).map(float),
    st.floats(1.0, 1e15),
)


@SETTINGS
@given(references(), ns)
def test_kl_between_zero_and_formula(ref, n):
    """0 ≤ KL(π_n ‖ p) ≤ log n - (n-1)/n (paper A, theorem)."""
    p, r = ref
    value = bestofn.kl(p, r, n)
    assert math.isfinite(value)
    assert value >= 0.0
    formula = bestofn.kl_formula(n)
    assert value <= formula + tol(formula)


@SETTINGS
@given(references(), ns)
def test_kl_below_estimator_of_top_mass_below_log(ref, n):
    """KL ≤ D̂_n(p(C*)) ≤ log 1/p(C*) (saturation bound, paper A)."""
    p, r = ref
    eps = bestofn.top_mass(p, r)
    value = bestofn.kl(p, r, n)
    estimate = bestofn.kl_estimator(eps, n)
    ceiling = -math.log(eps)
    assert value <= estimate + tol(estimate)
    assert estimate <= ceiling + tol(ceiling)


@SETTINGS
@given(references())
def test_kl_nondecreasing_in_n(ref):
    """KL is nondecreasing along a grid of n from 1 to 1e15."""
    p, r = ref
    values = bestofn.kl(p, r, N_GRID)
    assert np.all(np.isfinite(values))
    assert values[0] == 0.0
    assert np.all(np.diff(values) >= -tol(values)), values


@SETTINGS
@given(references(), ns)
def test_pmf_is_probability_vector(ref, n):
    """pmf ≥ 0 and sums to 1 within 1e-12; zero-mass outcomes get 0."""
    p, r = ref
    pi = bestofn.pmf(p, r, n)
    assert pi.shape == p.shape
    assert np.all(pi >= 0)
    assert abs(pi.sum() - 1.0) <= 1e-12
    assert np.all(pi[p == 0] == 0)


@SETTINGS
@given(references(), ns)
def test_pmf_proportional_to_p_inside_tie_groups(ref, n):
    """Inside a tie group π_n(y)/p(y) is the same for every member (paper A, ties)."""
    p, r = ref
    pi = bestofn.pmf(p, r, n)
    for level in np.unique(r):
        members = np.flatnonzero((r == level) & (p > 0))
        ratio = pi[members] / p[members]
        # Entries in or near the subnormal range carry few digits; compare the rest.
        exact = pi[members] > 1e-290
        if exact.sum() >= 2:
            ratio = ratio[exact]
            assert np.ptp(ratio) <= 1e-12 * ratio.max(), (level, ratio)


@SETTINGS
@given(references(permutation=True), ns)
def test_permutation_equivariance(ref, n):
    """Permuting outcomes permutes the pmf and leaves KL and E[D̂] unchanged."""
    p, r, perm = ref
    pi = bestofn.pmf(p, r, n)
    pi_perm = bestofn.pmf(p[perm], r[perm], n)
    np.testing.assert_allclose(pi_perm, pi[perm], rtol=1e-12, atol=1e-300)
    a, b = bestofn.kl(p, r, n), bestofn.kl(p[perm], r[perm], n)
    assert abs(a - b) <= tol(a)
    a = bestofn.expected_kl_estimator(p, r, n)
    b = bestofn.expected_kl_estimator(p[perm], r[perm], n)
    assert abs(a - b) <= tol(a)


@SETTINGS
@given(references(tiny=False), ns)
def test_expected_estimator_is_pmf_weighted_sum(ref, n):
    """E_{π_n}[D̂_n(p(y))] equals Σ_y π_n(y)·D̂_n(p(y)) computed directly (no tiny masses)."""
    p, r = ref
    support = p > 0
    direct = math.fsum(bestofn.pmf(p, r, n)[support] * bestofn.kl_estimator(p[support], n))
    value = bestofn.expected_kl_estimator(p, r, n)
    assert abs(value - direct) <= 1e-10 * abs(direct) + 1e-15, (value, direct)


@SETTINGS
@given(references(), ns)
def test_gap_bound_with_tie_groups(ref, n):
    """Our claim: log n - (n-1)/n - KL ≤ 2n(n-1)·Σ_C p(C)² (tie groups, Thm 3.4 form)."""
    p, r = ref
    formula = bestofn.kl_formula(n)
    gap = formula - bestofn.kl(p, r, n)
    bound = bestofn.gap_bound_tie_groups(p, r, n)
    assert gap <= bound + tol(formula), (gap, bound)


@SETTINGS
@given(references(zeros=False), ns)
def test_expected_estimator_sandwich(ref, n):
    """KL ≤ E[D̂_n] (reported Conjecture 4.4) and E[D̂_n] ≤ formula (D̂_n(ε) ≤ D̂_n(0))."""
    p, r = ref
    value = bestofn.kl(p, r, n)
    expected = bestofn.expected_kl_estimator(p, r, n)
    formula = bestofn.kl_formula(n)
    assert value <= expected + tol(expected), (value, expected)
    assert expected <= formula + tol(formula), (expected, formula)
