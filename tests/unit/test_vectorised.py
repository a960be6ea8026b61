"""One array convention for the public mathematics: a scalar argument gives a float, an array
argument an array of its shape (plus a trailing axis for vector results), equal element by
element to the scalar calls. Covers the functions that took scalars only:
``rewind.*``, ``tilt.kl_constrained`` and ``tradeoff.continuous_optimum_win_rate``."""

from __future__ import annotations

import numpy as np
import pytest

from bonkl import rewind, tilt, tradeoff

# ties, a tiny top group, and a zero-mass outcome
P = np.array([0.2, 0.3, 0.1, 0.4 - 1e-200, 1e-200, 0.0])
R = np.array([1.0, 1.0, 0.0, 2.0, 3.0, 9.0])
THRESHOLDS = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, 3.0]])


@pytest.mark.parametrize("function", [rewind.accept_mass, rewind.kl, rewind.expected_draws,
                                      rewind.win_rate])
def test_rewind_arrays_equal_scalar_calls(function):
    values = function(P, R, THRESHOLDS)
    assert isinstance(values, np.ndarray) and values.shape == THRESHOLDS.shape
    scalars = [function(P, R, float(tau)) for tau in THRESHOLDS.ravel()]
    assert all(type(value) is float for value in scalars)
    np.testing.assert_array_equal(values.ravel(), scalars)
    assert function(P, R, []).shape == (0,)


def test_rewind_policy_and_sample_add_a_trailing_axis():
    policies = rewind.policy(P, R, THRESHOLDS)
    assert policies.shape == THRESHOLDS.shape + P.shape
    for tau, row in zip(THRESHOLDS.ravel(), policies.reshape(-1, P.size), strict=True):
        np.testing.assert_array_equal(row, rewind.policy(P, R, float(tau)))
    draws = rewind.sample(P, R, THRESHOLDS, 7, np.random.default_rng(3))
    assert draws.shape == THRESHOLDS.shape + (7,) and draws.dtype == np.int64
    rng = np.random.default_rng(3)  # the same stream, threshold by threshold
    for tau, row in zip(THRESHOLDS.ravel(), draws.reshape(-1, 7), strict=True):
        np.testing.assert_array_equal(row, rewind.sample(P, R, float(tau), 7, rng))


def test_rewind_rejects_any_threshold_above_the_top_reward():
    """The zero-mass outcome's reward 9 is not reachable: τ = 4 names itself in the error."""
    with pytest.raises(ValueError, match=r"tau=4\.0 is above every reward"):
        rewind.kl(P, R, [1.0, 4.0])
    with pytest.raises(ValueError, match="tau=nan"):
        rewind.win_rate(P, R, np.array([np.nan]))


def test_rewind_tiny_acceptance_in_an_array():
    """The top group of mass 1e-200 keeps its digits inside an array call too."""
    kl = rewind.kl(P, R, np.array([3.0, 0.0]))
    assert kl[0] == pytest.approx(200 * np.log(10.0), rel=1e-14) and kl[1] == 0.0
    assert rewind.win_rate(P, R, np.array([3.0]))[0] == pytest.approx(1 - 0.5e-200, rel=1e-15)


def test_kl_constrained_arrays_equal_scalar_calls():
    cap = tilt.kl_cap(P, R)
    deltas = np.array([[0.0, 1e-45, 0.01], [0.3 * cap, 0.9 * cap, 2 * cap]])
    phi, lam = tilt.kl_constrained(P, R, deltas)
    assert phi.shape == deltas.shape + P.shape and lam.shape == deltas.shape
    for delta, row, root in zip(deltas.ravel(), phi.reshape(-1, P.size), lam.ravel(),
                                strict=True):
        want_phi, want_lam = tilt.kl_constrained(P, R, float(delta))
        assert type(want_lam) is float and want_phi.shape == P.shape
        np.testing.assert_array_equal(row, want_phi)
        assert root == want_lam
    assert np.isinf(lam[1, 2]) and lam[0, 0] == 0.0
    empty_phi, empty_lam = tilt.kl_constrained(P, R, [])
    assert empty_phi.shape == (0, P.size) and empty_lam.shape == (0,)
    with pytest.raises(ValueError, match="delta must be finite and >= 0"):
        tilt.kl_constrained(P, R, [0.1, -1.0])


def test_continuous_optimum_win_rate_arrays_equal_scalar_calls():
    deltas = np.array([[0.0, 1e-8], [0.5, 40.0]])
    wins = tradeoff.continuous_optimum_win_rate(deltas)
    assert wins.shape == deltas.shape
    scalars = [tradeoff.continuous_optimum_win_rate(float(d)) for d in deltas.ravel()]
    assert all(type(value) is float for value in scalars)
    np.testing.assert_array_equal(wins.ravel(), scalars)
    kl, win = tradeoff.continuous_optimum(np.array([0.7, 3.0]))  # the inverse, as an array
    np.testing.assert_allclose(tradeoff.continuous_optimum_win_rate(kl), win, rtol=1e-12)
    with pytest.raises(ValueError, match="delta must be finite"):
        tradeoff.continuous_optimum_win_rate([1.0, np.inf])
