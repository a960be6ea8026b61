"""Accuracy of bonkl.bestofn against the independent mpmath reference in hard regimes.

Every quantity must match ``mp_reference`` to a relative error of 1e-10: KL, pmf (entries
above 1e-300), the expected estimator and the estimator itself, for n from 2 to 1e12
and masses down to 1e-300.
"""

from __future__ import annotations

import numpy as np
import pytest
from mp_reference import estimator as mp_estimator
from mp_reference import expected_estimator as mp_expected_estimator
from mp_reference import kl as mp_kl
from mp_reference import pmf as mp_pmf

from bonkl import bestofn
from bonkl.references import random_reference
from bonkl.seeding import generator

RTOL = 1e-10
N_VALUES = [2, 3, 10, 1e3, 1e6, 1e9, 1e12]
PMF_FLOOR = 1e-300


def assert_close(got, want, what):
    """Relative error ≤ RTOL; an exact zero must be matched exactly (to 1e-300)."""
    want = float(want)
    if want == 0.0:
        assert abs(got) <= 1e-300, f"{what}: got {got!r}, want 0"
    else:
        err = abs(got - want) / abs(want)
        assert err <= RTOL, f"{what}: got {got!r}, want {want!r}, relative error {err:.3g}"


def check_reference(p, r, ns=N_VALUES):
    """Compare kl, pmf, expected_kl_estimator and kl_estimator(p) with mpmath at each n."""
    p = np.asarray(p, dtype=float)
    r = np.asarray(r, dtype=float)
    kl = bestofn.kl(p, r, np.asarray(ns, dtype=float))
    expected = bestofn.expected_kl_estimator(p, r, np.asarray(ns, dtype=float))
    for i, n in enumerate(ns):
        assert_close(bestofn.kl(p, r, n), mp_kl(p, r, n), f"kl n={n}")
        assert_close(kl[i], mp_kl(p, r, n), f"kl (array n) n={n}")
        assert_close(expected[i], mp_expected_estimator(p, r, n), f"expected estimator n={n}")
        got = bestofn.pmf(p, r, n)
        want = mp_pmf(p, r, n)
        for y, (g, w) in enumerate(zip(got, want, strict=True)):
            if float(w) > PMF_FLOOR:
                assert_close(g, w, f"pmf[{y}] n={n}")
            else:
                assert g <= 2 * PMF_FLOOR, f"pmf[{y}] n={n}: got {g!r}, want {float(w)!r}"
        for eps in np.unique(p[p > 0]):
            assert_close(
                bestofn.kl_estimator(eps, n),
                mp_estimator(eps, n),
                f"kl_estimator eps={eps!r} n={n}",
            )


_RNG = generator(20240611, "test_accuracy", "random_reference")
RANDOM_REFERENCES = [random_reference(_RNG, 12) for _ in range(30)]


@pytest.mark.parametrize("index", range(len(RANDOM_REFERENCES)))
def test_random_reference(index):
    """bonkl.references.random_reference draws (ties, masses to 1e-300, tiny top groups)."""
    p, r = RANDOM_REFERENCES[index]
    check_reference(p, r)


def test_random_references_cover_hard_features():
    """The random set does contain ties, masses below 1e-100 and a tiny top group."""
    tied = sum(np.unique(r).size < r.size for _, r in RANDOM_REFERENCES)
    tiny = sum(np.min(p[p > 0]) < 1e-100 for p, _ in RANDOM_REFERENCES)
    tiny_top = sum(bestofn.top_mass(p, r) < 1e-5 for p, r in RANDOM_REFERENCES)
    assert tied >= 5 and tiny >= 3 and tiny_top >= 1, (tied, tiny, tiny_top)


def test_tiny_top_under_uniform_bulk():
    """A top outcome of mass 1e-300 above a uniform bulk of 10 outcomes."""
    bulk = 10
    p = np.r_[np.full(bulk, (1.0 - 1e-300) / bulk), 1e-300]
    check_reference(p, np.arange(bulk + 1.0))


def test_tiny_top_group_of_ties():
    """A tied top group of three outcomes with masses 1e-300, 2e-300, 1e-200."""
    bulk = 6
    top = np.array([1e-300, 2e-300, 1e-200])
    p = np.r_[np.full(bulk, (1.0 - top.sum()) / bulk), top]
    check_reference(p, np.r_[np.arange(bulk, dtype=float), np.full(3, bulk + 1.0)])


@pytest.mark.parametrize("position", ["top", "bottom", "middle"])
def test_dominant_outcome(position):
    """One outcome of mass 1 - 1e-15, five others sharing 1e-15 (F near 1 everywhere)."""
    p = np.r_[1.0 - 1e-15, np.full(5, 1e-15 / 5)]
    rank = {"top": 5.0, "bottom": 0.0, "middle": 3.0}[position]
    r = np.r_[rank, [x for x in np.arange(6.0) if x != rank]]
    check_reference(p, r)


def test_dominant_outcome_above_tiny_tail():
    """Dominant top 1 - 1e-15 over tail masses down to 1e-300."""
    p = np.array([1e-300, 1e-200, 1e-16, 9e-16, 1.0 - 1e-15])
    check_reference(p, np.arange(5.0))


def test_binary_half_half():
    """Two equal outcomes, n up to 1e12 (KL → log 2)."""
    check_reference([0.5, 0.5], [0.0, 1.0])


def test_uniform_thousand_outcomes_large_n():
    """Uniform over 10^3 outcomes at n = 1e6 and 1e12."""
    size = 1000
    check_reference(np.full(size, 1.0 / size), np.arange(float(size)), [1e6, 1e12])


@pytest.mark.slow
def test_uniform_ten_thousand_outcomes_n_1e12():
    """Uniform over 10^4 outcomes at n = 1e12 (slow: mpmath over 10^4 groups)."""
    size = 10_000
    check_reference(np.full(size, 1.0 / size), np.arange(float(size)), [1e12])


@pytest.mark.parametrize("eps", [1e-300, 1e-100, 1e-10, 1e-3, 0.3, 0.5, 0.9, 1.0 - 1e-15])
@pytest.mark.parametrize("n", [2, 10, 1e6, 1e12])
def test_kl_estimator_against_mpmath(eps, n):
    """kl_estimator(eps, n) matches the mpmath estimator to 1e-10 relative."""
    assert_close(bestofn.kl_estimator(eps, n), mp_estimator(eps, n), f"eps={eps!r} n={n}")


def test_kl_estimator_array_against_mpmath():
    """The broadcast (array eps × array n) path agrees with mpmath too."""
    eps = np.array([1e-300, 1e-10, 0.3])[:, None]
    n = np.array([2.0, 1e6, 1e12])[None, :]
    got = bestofn.kl_estimator(eps, n)
    assert got.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            assert_close(got[i, j], mp_estimator(eps[i, 0], n[0, j]), f"[{i}, {j}]")
