"""Paper B's stage: the reverse KL's growth rate c∞, the closed form against a generic
optimiser, and the tables (slope by start, the convergence table's empty cells)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from bonkl import memoryless
from bonkl.study import kl_constrained as study
from bonkl.tilt import kl_constrained


def _cgf(p, r, t):
    return mp.log(mp.fsum(mp.mpf(q) * mp.exp(t * v) for q, v in zip(p, r, strict=True)))


def _sup_exponent(p, r, delta):
    """sup_x [δ − I_p(x) − I_φ(x)] straight from the Legendre transforms, in mpmath: for x
    between p's mean and the tilted mean, I_p(x) = sup_θ θx − Λ(θ) and I_φ(x) = sup_t tx −
    Λ(λ+t) + Λ(λ), both by mpmath's findroot on the stationarity conditions; the sup over x by
    a golden-section search. Nothing here uses the closed form δ − Λ(λ) + 2Λ(λ/2)."""
    with mp.workdps(40):
        lam = mp.mpf(kl_constrained(np.array(p), np.array(r, float), delta)[1])

        def mean(t):
            return mp.diff(lambda u: _cgf(p, r, u), t)

        def exponent(theta):  # x = Λ'(θ); I_p at θ, I_φ at the same point
            x = mean(theta)
            return delta - (theta * x - _cgf(p, r, theta)) - (
                (theta - lam) * x - _cgf(p, r, theta) + _cgf(p, r, lam))

        low, high = mp.mpf(0), lam
        golden = (mp.sqrt(5) - 1) / 2
        for _ in range(120):
            a, b = high - golden * (high - low), low + golden * (high - low)
            low, high = (low, b) if exponent(a) > exponent(b) else (a, high)
        return float(exponent((low + high) / 2))


@pytest.mark.parametrize(("p", "r", "delta"), [([0.5, 0.3, 0.2], [0, 1, 2], 0.05),
                                                ([0.8, 0.2], [0, 1], 1.0),
                                                ([0.4, 0.3, 0.2, 0.1], [-1, 0, 2, 5], 0.5)])
def test_reverse_exponent_is_the_large_deviation_supremum(p, r, delta):
    """c∞ = δ − Λ(λ) + 2Λ(λ/2) against the Laplace supremum computed independently."""
    got = study.reverse_kl_exponent(p, r, delta)
    assert got == pytest.approx(_sup_exponent(p, r, delta), rel=1e-10)
    assert 0 < got < delta


def test_exact_reverse_kl_grows_at_the_rate_c_inf():
    """The exact log(KL(φ_Δ ‖ π_N)/m) on m = 100..1000 (bernoulli, δ = 0.5): the three-term
    fit's slope is within 1e-3 of c∞ (relative); the two-term fit's is below it."""
    p, r, delta = [0.8, 0.2], [0, 1], 0.5
    m = np.array([100, 178, 316, 562, 1000])
    log_kl = np.array([memoryless.log_reverse_kl(p, r, int(k), delta) for k in m])
    c_inf = study.reverse_kl_exponent(p, r, delta)
    convergence = pd.DataFrame({"delta": delta, "m": m, "kl_bon_to_tilt": np.log(m) / m,
                                "reverse_computed": True, "log_kl_tilt_to_bon": log_kl,
                                "reverse_exponent": c_inf})
    fit = study.rate_fit(convergence).iloc[0]
    assert fit["c3_over_c_inf"] == pytest.approx(1.0, abs=1e-3)
    assert fit["c"] < c_inf
    margins = study.scenario_margins(
        "b", convergence.assign(reward_bon=0.0, reward_tilt=0.0, kl_bon=delta, kl_formula=1.0,
                                closeness_rhs=convergence["kl_bon_to_tilt"]),
        pd.DataFrame(columns=["delta", "tail", "x", "m", "tail_rate", "rate_function"]),
        pd.DataFrame(columns=["m", "delta", "k", "scaled_cumulant", "cgf_derivative"]),
        pd.DataFrame(columns=["t", "delta", "scaled_cgf", "renyi_form"]),
        study.rate_fit(convergence))
    row = margins[margins["claim"] == "reverse_kl_exponent"]
    assert len(row) == 1 and row["margin"].iloc[0] >= -study.EXPONENT_TOLERANCE


def test_generic_optimiser_finds_the_closed_form():
    """SLSQP from φ = p, no tilted form: the same reward as φ_Δ on a small reference, and a
    margin row per Δ; a reference with a tiny mass is left out."""
    p, r = np.array([0.4, 0.3, 0.2, 0.1]), np.array([-1.0, 0.0, 2.0, 5.0])
    table = study.optimiser_table(p, r)
    assert len(table) == len(study.OPTIMISER_FRACTIONS) and table["converged"].all()
    np.testing.assert_allclose(table["reward_optimiser"], table["reward_closed_form"],
                               rtol=1e-7)
    assert (table["kl_optimiser"] <= table["delta"] * (1 + 1e-9)).all()
    margins = study.optimiser_margins("g", table)
    assert (margins["margin"] >= -study.OPTIMISER_TOLERANCE).all()
    assert study.optimiser_table(np.array([0.5, 0.5 - 1e-6, 1e-6]), np.arange(3.0)).empty


def test_optimiser_would_catch_a_wrong_closed_form():
    """The check can fail: a policy better than a mis-tilted one (λ halved) is found."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, 2.0])
    phi, lam = kl_constrained(p, r, 0.3)
    wrong = p * np.exp(lam / 2 * r) / np.sum(p * np.exp(lam / 2 * r))
    found, converged = study.optimise_constrained(p, r, 0.3)
    assert converged and found @ r > wrong @ r + 1e-3
    assert found @ r == pytest.approx(phi @ r, rel=1e-8)


def test_slope_by_start_and_empty_cells():
    m = np.unique(np.round(np.logspace(0, 6, 25)).astype(int))
    convergence = pd.DataFrame({"delta": 0.1, "m": m,
                                "kl_bon_to_tilt": (0.5 * np.log(m) + 3.0 / np.sqrt(m)) / m})
    table = study.slope_by_start(convergence)
    assert list(table["m_from"]) == [100, 1000, 10_000, 100_000]
    assert np.all(np.diff(np.abs(table["a"] - 0.5)) < 0)  # closer to ½ from later starts
    rows = pd.DataFrame({"delta": 0.5, "m": [1, 10], "reward_bon": 0.1, "reward_tilt": 0.2,
                         "kl_bon": 0.1, "kl_formula": 0.2, "kl_bon_to_tilt": 0.1,
                         "small_m_delta": [True, False], "n_real": [1.6487, 0.0],
                         "reward_bon_floor": [0.2, 0.0], "kl_bon_floor": [0.0, 0.0],
                         "reward_bon_ceil": [0.36, 0.0], "kl_bon_ceil": [0.07, 0.0]})
    summary = study.convergence_summary({"s": rows})
    assert list(summary["n_real"]) == ["1.6487", ""]
    assert list(summary["kl_bon_floor"]) == ["0", ""]  # a real zero stays, on a flagged row


def test_cumulant_figure_table_is_long_and_complete():
    cumulants = pd.DataFrame({"delta": 0.1, "m": [1, 10], "k": [1, 1],
                              "scaled_cumulant": [1.0, 1.0], "cgf_derivative": [1.0, 1.0]})
    renyi = pd.DataFrame({"delta": 0.1, "t": [0.5], "scaled_cgf": [0.3], "renyi_form": [0.3]})
    table = study.cumulant_figure_table(cumulants, renyi)
    assert list(table["panel"]) == ["k=1", "k=1", "renyi"] and not table.isna().any().any()
