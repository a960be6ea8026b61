"""Paper C: probability ratios and crossovers, MARA's batches and exact targets, policy fits.

Hand-worked cases, mpmath in the hard regimes (β = 1e-8, log targets far below the double
range), and the gradient of every fitting objective against central finite differences.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from bonkl import collapse, mara, tilt
from bonkl.divergence import kl_from_logs
from bonkl.rl import policy_fit
from bonkl.study import regularized

FIG4_P, FIG4_R = np.array([0.68, 0.30, 0.02]), np.array([0.0, 1.0, 1.0])


def test_remark_4_2_number_by_hand():
    """e^{0.1/1e-3} = e^100 = 2.6881171418e43 (mpmath); the paper prints 2.6e43: the row's
    margin is the discrepancy −(2.688/2.6 − 1) = −0.0339, beyond half a printed unit (0.0192)."""
    ratio = collapse.equal_support_ratio(0.1, 1e-3)
    assert ratio == pytest.approx(float(mp.exp(100)), rel=1e-13)
    logs = tilt.log_tilt(np.full(3, 1 / 3), [0.0, 0.9, 1.0], 1e3)
    assert math.exp(logs[2] - logs[1]) == pytest.approx(ratio, rel=1e-12)
    rows = regularized.stated_ratio_margins(np.full(3, 1 / 3), [0.0, 0.9, 1.0], [1e-3], "gap")
    assert rows["margin"].iloc[0] == pytest.approx(-(float(mp.exp(100)) / 2.6e43 - 1), rel=1e-12)
    claim = regularized.CLAIMS["remark_4_2_number"]
    assert -rows["margin"].iloc[0] > claim.tolerance == pytest.approx(0.05 / 2.6)


def test_fig2_reference_has_the_papers_log_probs():
    """log p = −4.05, −5.95 at the modes on a 201-point grid, normalised: β* = 0.25/1.90."""
    spec = {"grid": {"low": 0.0, "high": 1.0, "points": 201},
            "reward": {"modes": [0.3, 0.7], "heights": [0.75, 1.0], "width": 0.08},
            "reference": {"means": [0.3, 0.7], "log_probs": [-4.05, -5.95]}}
    y, p, reward, low, high = regularized.mode_switch_problem(spec)
    assert (y[low], y[high]) == (pytest.approx(0.3), pytest.approx(0.7))
    assert np.log(p[[low, high]]) == pytest.approx([-4.05, -5.95], abs=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    predicted = regularized.mode_switch_crossovers(p, reward, low, high)
    assert predicted["reverse"] == pytest.approx(0.25 / 1.90, rel=1e-11)
    assert 0.10 < predicted["reverse"] < 0.15  # the paper's figure switches between these
    with pytest.raises(ValueError, match="no std"):
        regularized.two_bump_reference(y, [0.3, 0.7], [-9.0, -11.0])


@pytest.mark.parametrize("beta", [1e-8, 1e-3, 1.0, 1e4])
def test_prop_4_1_in_logs_against_mpmath(beta):
    """log G_β at β = 1e-8 is ~ -1e8 for the worst action: compare logs with mpmath."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.9, 1.0])
    logs = tilt.log_tilt(p, r, 1 / beta)
    with mp.workdps(60):
        b = mp.mpf(beta)
        weights = [mp.log(mp.mpf(pi)) + mp.mpf(ri) / b for pi, ri in zip(p, r, strict=True)]
        total = mp.log(mp.fsum(mp.exp(w - max(weights)) for w in weights)) + max(weights)
        for got, w in zip(logs, weights, strict=True):
            assert got == pytest.approx(float(w - total), rel=1e-15, abs=1e-12)
    formula = collapse.reverse_log_ratio(p[1], p[2], r[1], r[2], beta)
    assert logs[1] - logs[2] == pytest.approx(formula, rel=1e-14)


def test_crossover_by_hand_and_by_bisection():
    """p = (0.8, 0.2), r = (0.75, 1): β* = 0.25/log 4 and the targets switch there."""
    p, r = np.array([0.8, 0.2]), np.array([0.75, 1.0])
    beta = collapse.reverse_crossover_beta(*p, *r)
    assert beta == pytest.approx(0.25 / math.log(4.0), rel=1e-15)
    found = collapse.bisect_crossover(lambda b: np.diff(tilt.log_tilt(p, r, 1 / b))[0], 1e-3, 10)
    assert found == pytest.approx(beta, rel=1e-13)
    with pytest.raises(ValueError, match="crossover"):
        collapse.reverse_crossover_beta(0.8, 0.2, 1.0, 0.75)


def test_forward_crossover_against_mpmath():
    """At β*_fwd the forward target of (0.5, 0.3, 0.2; 0, 0.75, 1) has G(y2) = G(y3) (mpmath)."""
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.75, 1.0])
    beta, lam = collapse.forward_crossover(p, r, 1, 2)
    assert lam == pytest.approx((0.3 * 1.0 - 0.2 * 0.75) / 0.1, rel=1e-14)
    import mp_reference as mpr

    target, exact_lam = mpr.forward_target(p, r, beta)
    assert float(exact_lam) == pytest.approx(lam, rel=1e-13)
    assert float(target[1] / target[2]) == pytest.approx(1.0, rel=1e-13)
    found = collapse.bisect_crossover(
        lambda b: np.diff(np.log(tilt.forward_kl_target(p, r, b)[0]))[1], 1e-4, 1e3)
    assert -found == pytest.approx(-beta, rel=1e-12)


def test_forward_ratio_keeps_ties_fig4():
    """Fig. 4: the 15× bias between the two correct actions at every β, both regularisers."""
    for beta in (1e-8, 1e-3, 0.5, 1e4):
        reverse = tilt.reverse_kl_target(FIG4_P, FIG4_R, beta)
        forward, _ = tilt.forward_kl_target(FIG4_P, FIG4_R, beta)
        assert reverse[1] / reverse[2] == pytest.approx(15.0, rel=1e-13)
        assert forward[1] / forward[2] == pytest.approx(15.0, rel=1e-13)


def test_augment_by_hand():
    """Batch rewards (1, 1, 0.2, 1), log p (-1, -3, -0.5, -2), τ = 1, β = 0.1: anchor 0."""
    rewards, logp = np.array([1.0, 1.0, 0.2, 1.0]), np.array([-1.0, -3.0, -0.5, -2.0])
    assert mara.anchor(rewards, logp, 1.0) == 0
    np.testing.assert_allclose(mara.augment(rewards, logp, 0.1, 1.0), [1.0, 1.2, 0.2, 1.1],
                               rtol=1e-15)
    new_r, new_logp = mara.anchor_reference(rewards, logp, 1.0)
    np.testing.assert_array_equal(new_r, [1.0, 1.0, 0.2, 1.0])
    np.testing.assert_array_equal(new_logp, [-1.0, -1.0, -0.5, -1.0])
    np.testing.assert_array_equal(mara.augment(rewards, logp, 0.1, 2.0), rewards)  # none good
    with pytest.raises(ValueError, match="beta"):
        mara.augment(rewards, logp, 0.0, 1.0)
    with pytest.raises(ValueError, match="same length"):
        mara.augment(rewards, logp[:3], 0.1, 1.0)


def test_mara_targets_fig4_by_hand():
    """Fig. 4 with τ = 1: reverse-KL MARA gives equal mass to actions 2 and 3; forward-KL
    Algorithm 2 solves β·p̃/(Λ − R̃) with p̃ = (0.68, 0.3, 0.3) (checked by its definition)."""
    beta = 0.5
    for algorithm in ("algorithm_1", "algorithm_2"):
        logs = mara.log_reverse_target(FIG4_P, FIG4_R, beta, 1.0, algorithm)
        assert logs[1] == pytest.approx(logs[2], abs=1e-15)
        weights = np.array([0.68, 0.3 * math.exp(2.0), 0.3 * math.exp(2.0)])
        np.testing.assert_allclose(np.exp(logs), weights / weights.sum(), rtol=1e-14)
    target, lam = mara.forward_target(FIG4_P, FIG4_R, beta, 1.0, "algorithm_2")
    np.testing.assert_allclose(target, beta * np.array([0.68, 0.3, 0.3]) / (lam - FIG4_R),
                               rtol=1e-13)
    assert target.sum() == pytest.approx(1.0, abs=1e-15)
    drift, lam1 = mara.forward_target(FIG4_P, FIG4_R, beta, 1.0, "algorithm_1")
    augmented = mara.augment(FIG4_R, np.log(FIG4_P), beta, 1.0)
    np.testing.assert_allclose(drift, beta * FIG4_P / (lam1 - augmented), rtol=1e-13)
    assert drift[2] > drift[1]  # the digest's prediction: mass drifts to the low-support one


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-4, 1.0), min_size=3, max_size=8), st.floats(1e-3, 5.0),
       st.integers(0, 2**32 - 1))
def test_mara_optima_beat_random_rivals(weights, beta, seed):
    """Algorithm 2's targets maximise their objectives: E R̃ − β Σ π log(π/p̃) (reverse) and
    E R̃ − β Σ p̃ log(p̃/π) (forward), against random rivals."""
    p = np.asarray(weights) / np.sum(weights)
    r = np.random.default_rng(seed).integers(0, 3, p.size).astype(float)
    r[0] = 2.0
    rewards, log_tilde = mara.anchor_reference(r, np.log(p), 2.0)
    tilde = np.exp(log_tilde)
    rivals = np.random.default_rng(seed + 1).dirichlet(np.ones(p.size), size=200)

    def reverse(pi):
        return pi @ rewards - beta * np.sum(special.xlogy(pi, pi / tilde), axis=-1)

    def forward(pi):
        return pi @ rewards - beta * np.sum(tilde * np.log(tilde / pi), axis=-1)

    best = np.exp(mara.log_reverse_target(p, r, beta, 2.0, "algorithm_2"))
    assert reverse(best) >= reverse(rivals).max() - 1e-12
    best, _ = mara.forward_target(p, r, beta, 2.0, "algorithm_2")
    assert forward(best) >= forward(rivals).max() - 1e-12


def _objectives(y):
    log_t = regularized.log_gaussian_mixture(y, [-1.0, 1.5], [0.3, 0.7], 0.5)
    log_p = regularized.log_gaussian_mixture(y, [0.0], [1.0], 2.0)
    reward = np.sin(y)
    return {"reverse_kl": policy_fit.reverse_kl(log_t), "forward_kl": policy_fit.forward_kl(log_t),
            "reverse RL": policy_fit.regularised(reward, log_p, 0.3, "reverse"),
            "forward RL": policy_fit.regularised(reward, log_p, 0.3, "forward")}


@pytest.mark.parametrize("name", ["reverse_kl", "forward_kl", "reverse RL", "forward RL"])
@pytest.mark.parametrize("kind", ["gaussian", "categorical"])
def test_gradients_match_finite_differences(name, kind):
    y = np.linspace(-4, 4, 41)
    objective = _objectives(y)[name]
    rng = np.random.default_rng(3)
    if kind == "gaussian":
        policy, theta = policy_fit.GaussianPolicy(y), np.array([0.3, np.log(1.2)])
    else:
        policy, theta = policy_fit.CategoricalPolicy(y), rng.normal(size=y.size)
    _, grad = policy_fit.value_and_grad(policy, theta, objective)
    step = 1e-6
    for k in range(theta.size):
        shift = np.zeros_like(theta)
        shift[k] = step
        up, _ = policy_fit.value_and_grad(policy, theta + shift, objective)
        down, _ = policy_fit.value_and_grad(policy, theta - shift, objective)
        assert grad[k] == pytest.approx((up - down) / (2 * step), rel=1e-6, abs=1e-9)


def test_fits_reach_their_optima():
    """Categorical fits reach the target; reverse-KL Gaussian picks one mode of a bimodal
    target (KL ≈ log 2), the forward-KL Gaussian matches its mean and spread."""
    y = np.linspace(-6, 6, 121)
    log_t = regularized.log_gaussian_mixture(y, [-2.5, 2.5], [0.5, 0.5], 0.6)
    gaussian = policy_fit.GaussianPolicy(y)
    _, log_pi, values = policy_fit.fit(gaussian, [0.5, np.log(0.5)], policy_fit.reverse_kl(log_t),
                                       2000, 0.05)
    assert values[-1] == pytest.approx(math.log(2.0), abs=1e-3)
    assert np.exp(log_pi)[y > 0].sum() > 0.999
    _, log_pi, _ = policy_fit.fit(gaussian, [0.5, np.log(0.5)], policy_fit.forward_kl(log_t),
                                  2000, 0.05)
    pi, target = np.exp(log_pi), np.exp(log_t)
    assert pi @ y == pytest.approx(target @ y, abs=1e-6)
    assert pi @ y**2 == pytest.approx(target @ y**2, rel=1e-4)
    log_p = regularized.log_gaussian_mixture(y, [-1.5], [1.0], 1.2)
    reward = regularized.bump_reward(y, [-2.5, 2.5], [1.0, 1.0], 0.4)
    categorical = policy_fit.CategoricalPolicy(y)
    _, log_pi, _ = policy_fit.fit(categorical, np.zeros(y.size),
                                  policy_fit.regularised(reward, log_p, 0.05, "reverse"),
                                  3000, 0.05)
    gibbs = tilt.log_tilt(np.exp(log_p), reward, 1 / 0.05)
    assert kl_from_logs(log_pi, gibbs) < 1e-3


def test_forward_kl_matched_hits_delta_and_kl_falls_with_beta():
    p, r = np.array([0.6, 0.25, 0.1, 0.05]), np.array([0.0, 1.0, 2.0, 2.0])
    betas = np.logspace(-6, 4, 200)
    kls = [kl_from_logs(np.log(tilt.forward_kl_target(p, r, b)[0]), np.log(p)) for b in betas]
    assert np.all(np.diff(kls) < 0)
    for delta in (1e-4, 0.5, 1.8):
        target, beta = tilt.forward_kl_matched(p, r, delta)
        assert kl_from_logs(np.log(target), np.log(p)) == pytest.approx(delta, rel=1e-12)
        assert target[2] / target[3] == pytest.approx(2.0, rel=1e-13)
    with pytest.raises(ValueError, match="delta"):
        tilt.forward_kl_matched(p, r, tilt.kl_cap(p, r))


def test_cross_paper_keeps_reference_proportions():
    p = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    r = np.array([0.0, 1.0, 2.0, 2.0, 2.0])
    table, margins = regularized.cross_paper(p, r, [2, 8, 64])
    assert set(table["method"]) == {"best-of-n", "KL-constrained = reverse-KL", "forward-KL"}
    np.testing.assert_allclose(table["share"], table["ref_share"], rtol=1e-12)
    np.testing.assert_allclose(table["kl"], table["kl_bestofn"], rtol=1e-10)
    assert (margins["margin"] >= -1e-12).all()
    summary = regularized.cross_paper_summary(table.assign(reference="toy"))
    assert summary["keeps_reference_proportions"].all() and len(summary) == 9


def _fig5(seed=0):
    """An exponentially decaying reference on 60 bins with two reward-1 plateaus."""
    p = np.exp(-0.15 * np.arange(60) + np.random.default_rng(seed).uniform(0, 0.1, 60))
    r = np.zeros(60)
    r[5:12], r[40:48] = 1.0, 1.0
    return p / p.sum(), r


@pytest.mark.parametrize("beta", [1e-3, 0.01, 1.0, 30.0])
def test_algorithm_1_lambda_forward_flat_against_mpmath(beta):
    """mpmath: Λ₂ from Algorithm 2's problem (p̃/S, R̃, βS); then R̄ = Λ₂ − (p/p(z))(Λ₂ − R(z))
    on the good bins, and mpmath's own root of Σ β p/(Λ − R̄) = 1 is Λ₂ again, with a flat
    target equal to ours."""
    import mp_reference as mpr

    p, r = _fig5()
    target, lam = mara.forward_target(p, r, beta, 1.0, "algorithm_1_lambda")
    with mp.workdps(80):
        tilde, tilde_r = mpr.mara_problem(p, r, beta, 1.0, "algorithm_2")
        total = mp.fsum(tilde)
        _, lam2 = mpr.forward_target([w / total for w in tilde], tilde_r, beta * total)
        masses = mpr.normalized(p)
        z = max((i for i in range(60) if r[i] >= 1), key=lambda i: masses[i])
        augmented = [lam2 - masses[i] / masses[z] * (lam2 - 1) if r[i] >= 1 else mp.mpf(r[i])
                     for i in range(60)]
        exact, lam_root = mpr.forward_target(masses, augmented, beta)
    assert float(lam_root) == pytest.approx(float(lam2), rel=1e-20)
    assert lam == pytest.approx(float(lam2), rel=1e-13)
    np.testing.assert_allclose(target, [float(x) for x in exact], rtol=1e-11)
    good = target[r >= 1]
    np.testing.assert_allclose(good, good[0], rtol=1e-11)
    flat, lam_2 = mara.forward_target(p, r, beta, 1.0, "algorithm_2")
    np.testing.assert_allclose(target, flat, rtol=1e-11)
    np.testing.assert_allclose(mara.log_reverse_target(p, r, beta, 1.0, "algorithm_1_lambda"),
                               mara.log_reverse_target(p, r, beta, 1.0, "algorithm_1"))


def test_augment_lambda_is_stationary_at_the_flat_target():
    """At π = the flat target, Λ̂ = Λ₂ on every sample (a batch holding the anchor gets the exact
    R̄), and the exact softmax gradient π_y (R̄_y − E_π R̄) + β (p_y − π_y) of E_π R̄ − β
    KL(p ‖ π) vanishes with R̄ from the whole space as one batch."""
    p, r = _fig5(1)
    beta = 0.3
    target, lam = mara.forward_target(p, r, beta, 1.0, "algorithm_2")
    z = int(np.flatnonzero(r >= 1)[np.argmax(p[r >= 1])])
    batch = np.array([z, 0, 44, 7, 7, 59, 41])
    got = mara.augment_lambda(r[batch], np.log(p[batch]), np.log(target[batch]), beta, 1.0)
    by_hand = np.where(r[batch] >= 1, lam - p[batch] / p[z] * (lam - 1.0), r[batch])
    np.testing.assert_allclose(got, by_hand, rtol=1e-14)
    whole = mara.augment_lambda(r, np.log(p), np.log(target), beta, 1.0)
    gradient = target * (whole - target @ whole) + beta * (p - target)
    assert np.max(np.abs(gradient)) < 1e-15
    vanilla_gradient = target * (r - target @ r) + beta * (p - target)
    assert np.max(np.abs(vanilla_gradient)) > 1e-3  # the check can fail
    np.testing.assert_array_equal(mara.augment_lambda(r[:3], np.log(p[:3]), np.log(p[:3]),
                                                      beta, 1.0), r[:3])  # no good sample
    with pytest.raises(ValueError, match="policy_logp"):
        mara.augment_lambda(r, np.log(p), np.log(p[:3]), beta, 1.0)


def _flat_slope(p, r, good, beta, level):
    """``b(a)``: the one slope for which the good-set rewards ``R̄(y) = a − b p(y)`` (bad
    outcomes keep ``R``) give a forward target flat on the good set, with ``Λ = a``.

    Flat means ``β p(y)/(Λ − R̄(y)) = c`` on the good set, i.e. ``R̄(y) = Λ − (β/c) p(y)``:
    every flat augmentation is affine in ``p`` with intercept ``a = Λ`` and slope
    ``b = β/c``; the mass adds to 1 exactly when ``|G| c = 1 − f_bad(a)``, ``f_bad(a) = Σ_bad
    β p/(a − R)``. So the flat augmentations of a reference are the one-parameter family
    ``{(a, b(a))}``, ``b(a) = β |G| / (1 − f_bad(a))``, for ``a`` above the bad rewards with
    ``f_bad(a) < 1``; returns NaN where ``f_bad(a) >= 1``."""
    bad = ~good
    f_bad = np.sum(beta * p[bad] / (level[:, None] - r[bad]), axis=1)
    return np.where(f_bad < 1, beta * good.sum() / np.where(f_bad < 1, 1 - f_bad, 1.0), np.nan)


def test_flat_forward_augmentation_needs_lambda():
    """No augmentation computed from the good outcomes' ``(R, p)`` alone makes every forward
    target flat (module doc): two references with the same good outcomes (same p, same R)
    and different bad rewards have *disjoint* sets of flat good-set augmentations.

    The flat augmentations of a reference are ``R̄ = a − b(a) p`` on the good set
    (:func:`_flat_slope`): checked here to be flat with ``Λ = a`` at every ``a`` of a grid,
    with ``algorithm_1_lambda``'s one of them (``a = Λ₂``). An augmentation that sees only
    the good outcomes gives both references the same ``R̄``, hence the same ``(a, b)``
    (two good outcomes of different p fix an affine map); it can be flat on both only if
    ``b₁(a) = b₂(a)``, i.e. ``f_bad,1(a) = f_bad,2(a)``. With bad rewards 0 and −5 on the
    same bad mass, ``f_bad,1(a) − f_bad,2(a) = β p_bad (1/a − 1/(a + 5)) > 0`` for every
    ``a > 0``: the families never meet. The last part shows why the argument compares
    families, not one member each: two references whose bad parts differ in mass and reward
    do share a flat augmentation (the audit's counterexample to the former argument)."""
    p = np.array([0.4, 0.3, 0.2, 0.1])
    good = np.array([False, True, True, True])
    beta = 0.5
    levels = 1.0 + np.geomspace(1e-6, 1e3, 400)  # a above every reward
    slopes = {}
    for bad_reward in (0.0, -5.0):
        r = np.where(good, 1.0, bad_reward)
        slope = _flat_slope(p, r, good, beta, levels)
        slopes[bad_reward] = slope
        for a, b in zip(levels[::40], slope[::40], strict=True):
            augmented = np.where(good, a - b * p, r)
            target, lam = tilt.forward_kl_target(p, augmented, beta)
            np.testing.assert_allclose(target[good], target[good][0], rtol=1e-9)
            assert lam == pytest.approx(a, rel=1e-9)
        target, lam2 = mara.forward_target(p, r, beta, 1.0, "algorithm_1_lambda")
        augmented = lam2 - p[good] / p[1] * (lam2 - 1.0)  # its flat good-set rewards
        b = _flat_slope(p, r, good, beta, np.array([lam2]))[0]
        np.testing.assert_allclose(augmented, lam2 - b * p[good], rtol=1e-12)
    assert np.all(np.isfinite(slopes[0.0])) and np.all(np.isfinite(slopes[-5.0]))
    assert np.all(slopes[0.0] > slopes[-5.0])  # disjoint families on the whole grid
    # two references that share a flat augmentation: bad mass 0.4 at reward 0, against
    # 0.2 at 0.5 and 0.2 at −5; f_bad,1 = f_bad,2 at a = 10/9 (0.2/(a − ½) + 0.2/(a + 5) =
    # 0.4/a), so one augmentation R̄ = a − b p is flat on both
    shared = 10.0 / 9.0
    first = (np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.0, 1.0, 1.0, 1.0]))
    second = (np.array([0.2, 0.2, 0.3, 0.2, 0.1]), np.array([0.5, -5.0, 1.0, 1.0, 1.0]))
    b = [_flat_slope(q, r, r >= 1, beta, np.array([shared]))[0] for q, r in (first, second)]
    assert b[0] == pytest.approx(b[1], rel=1e-12)
    for q, r in (first, second):
        augmented = np.where(r >= 1, shared - b[0] * q, r)
        target, lam = tilt.forward_kl_target(q, augmented, beta)
        np.testing.assert_allclose(target[r >= 1], target[r >= 1][0], rtol=1e-9)
        assert lam == pytest.approx(shared, rel=1e-9)
