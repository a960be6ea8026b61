"""Accuracy against independent mpmath references in the hard regimes.

First every exact quantity of the library in its hardest regime (the case grids of
``accuracy_sweep``, shared with ``bench/accuracy.py``, which runs the full grids and prints
the README's table; here the quick grids, which reach the same extremes), each within its
stated tolerance. Then bonkl.bestofn over random references: KL, pmf, the expected estimator
and the estimator itself match ``mp_reference`` to a relative error of 1e-10 (entries below
1e-300 absolutely), for n from 2 to 1e12 and masses down to 1e-300.
"""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_sweep import QUANTITIES, evaluate, regime, relative_error
from mp_reference import estimator as mp_estimator
from mp_reference import expected_estimator as mp_expected_estimator
from mp_reference import kl as mp_kl
from mp_reference import pmf as mp_pmf

from bonkl import bestofn
from bonkl.plumbing.seeding import generator
from bonkl.references import random_reference

RTOL = 1e-10
N_VALUES = [2, 3, 10, 1e3, 1e6, 1e9, 1e12]


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.name)
def test_hardest_regime_against_mpmath(quantity):
    """Every output of every exact quantity within its tolerance over the quick grid."""
    for row in evaluate(quantity, quick=True):
        assert row.worst <= row.tolerance, (
            f"{row.quantity}: relative error {row.worst:.3g} > {row.tolerance:g} at {row.where}")


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.name)
def test_quick_grid_reaches_the_hardest_regime(quantity):
    """The tests' grid has the full grid's extremes (largest n, smallest mass, ...)."""
    assert regime(quantity.grid(True)) == regime(quantity.grid(False))


def test_relative_error_floors_and_logs():
    """Relative error; below 1e-300 absolute at 1e-300; logs relative to max(|log|, 1)."""
    assert relative_error(1.0 + 1e-12, 1.0) == pytest.approx(1e-12, rel=1e-3)
    assert relative_error(0.0, 1e-310) == pytest.approx(1e-10)
    assert relative_error([0.5, 2.0], [0.5, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error(-0.5 + 1e-13, -0.5, log=True) == pytest.approx(1e-13, rel=1e-3)
    assert relative_error(-np.inf, -np.inf, log=True) == 0.0
    assert relative_error(np.nan, 1.0) == np.inf


def assert_close(got, want, what):
    """Relative error ≤ RTOL (values below 1e-300 absolutely, at 1e-300)."""
    err = relative_error(got, want)
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
        assert_close(bestofn.pmf(p, r, n), mp_pmf(p, r, n), f"pmf n={n}")
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
