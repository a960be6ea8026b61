"""tilt.forward_kl_matched: the forward-KL target at a given KL (paper C's family matched to
paper B's budget), public mathematics moved out of the study layer (issue 23, section 4)."""

from __future__ import annotations

import numpy as np
import pytest

from bonkl import tilt
from bonkl.divergence import kl_from_logs

P = np.array([0.6, 0.25, 0.1, 0.05])
R = np.array([0.0, 1.0, 2.0, 2.0])  # a tied top group of mass 0.15


def kl_to_reference(target: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(kl_from_logs(np.log(target), np.log(P)))


@pytest.mark.parametrize("fraction", [1e-9, 1e-3, 0.3, 0.9, 0.999])
def test_the_target_has_the_requested_kl(fraction):
    delta = fraction * tilt.kl_cap(P, R)
    target, beta = tilt.forward_kl_matched(P, R, delta)
    assert kl_to_reference(target) == pytest.approx(delta, rel=1e-9)
    again, _ = tilt.forward_kl_target(P, R, beta)  # it is the family's member at that β
    np.testing.assert_array_equal(target, again)
    assert target[2] / target[3] == pytest.approx(P[2] / P[3], rel=1e-12)  # ties keep 2:1


def test_beta_falls_as_the_budget_grows():
    cap = tilt.kl_cap(P, R)
    _, betas = tilt.forward_kl_matched(P, R, cap * np.array([0.01, 0.1, 0.5, 0.9]))
    assert np.all(np.diff(betas) < 0)


def test_two_outcomes_are_one_family():
    """On two outcomes every one-parameter family through p reaching p(C*) is the same curve:
    the forward target at KL Δ is the KL-constrained tilt at Δ."""
    forward, _ = tilt.forward_kl_matched([0.5, 0.5], [0.0, 1.0], 0.1)
    tilted, _ = tilt.kl_constrained([0.5, 0.5], [0.0, 1.0], 0.1)
    np.testing.assert_allclose(forward, tilted, rtol=1e-9)


def test_arrays_equal_scalar_calls_and_bad_budgets_are_named():
    deltas = np.array([[0.05, 0.2], [0.5, 1.0]])
    targets, betas = tilt.forward_kl_matched(P, R, deltas)
    assert targets.shape == deltas.shape + P.shape and betas.shape == deltas.shape
    for delta, target, beta in zip(deltas.ravel(), targets.reshape(-1, P.size), betas.ravel(),
                                   strict=True):
        want_target, want_beta = tilt.forward_kl_matched(P, R, float(delta))
        assert type(want_beta) is float
        np.testing.assert_array_equal(target, want_target)
        assert beta == want_beta
    for bad in (0.0, tilt.kl_cap(P, R), -1.0):
        with pytest.raises(ValueError, match=r"must lie in \(0, log 1/p\(C\*\)"):
            tilt.forward_kl_matched(P, R, [0.1, bad])
