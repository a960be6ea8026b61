"""Exponential tilts of a reference: the KL-constrained optimum and the KL-regularised targets.

- Tilt (paper B, "KL-constrained RL and its closed form"):
  ``φ_λ(y) = p(y)·e^{λ r(y)} / Z(λ)``, ``Λ(λ) = log E_p e^{λ r}``,
  ``KL(φ_λ ‖ p) = λΛ'(λ) − Λ(λ)``, increasing in λ from 0 to ``log 1/p(C*)``.
- Reverse-KL target (paper C, "The two targets"): ``G_β = φ_{1/β}``.
- Forward-KL target (paper C): ``G_fwd(y) = β·p(y)/(Λ − r(y))``, ``Σ_y G_fwd(y) = 1``.

Everything is computed with rewards shifted to ``r − max r <= 0``, so ``e^{λ(r − max r)}``
never overflows, for λ up to ``inf`` (the tilt's limit ``p(· | C*)``).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from bonkl.divergence import kl_from_logs
from bonkl.groups import as_reference

_ROOT_RTOL = 4 * np.finfo(float).eps  # the tightest relative tolerance brentq accepts
_SMALL_DELTA = 1e-20  # below: λ from KL ≈ λ²Var/2 (the KL itself is below rounding noise)
_SATURATED = 800.0  # λ·(gap below the top reward) past which e^{-λ·gap} underflows


def _top(p: np.ndarray, r: np.ndarray) -> tuple[float, np.ndarray]:
    """The top reward on the support of ``p`` and the mask of ``C*``."""
    r_max = float(np.max(r[p > 0]))
    return r_max, (p > 0) & (r == r_max)


def log_tilt(p, r, lam):
    """``log φ_λ(y) = log p(y) + λ r(y) − Λ(λ)`` (paper B); ``lam = inf`` gives ``log p(·|C*)``.

    ``lam`` is a scalar ``>= 0``. Outcomes with ``p = 0`` get ``-inf``.
    """
    p, r = as_reference(p, r)
    lam = float(lam)
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    r_max, top = _top(p, r)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    if np.isinf(lam):
        return np.where(top, log_p - special.logsumexp(log_p[top]), -np.inf)
    exponent = log_p + lam * (r - r_max)
    return exponent - special.logsumexp(exponent)


def cgf(p, r, lam) -> float:
    """``Λ(λ) = log E_p e^{λ r}`` (paper B), for finite ``lam`` of any sign."""
    p, r = as_reference(p, r)
    support = p > 0
    shift = np.max(r[support]) if lam >= 0 else np.min(r[support])
    return float(lam * shift + special.logsumexp(np.log(p[support]) + lam * (r[support] - shift)))


def tilt_kl(p, r, lam) -> float:
    """``KL(φ_λ ‖ p)`` in nats, as a sum of non-negative terms (no cancellation at small λ)."""
    p, r = as_reference(p, r)
    with np.errstate(divide="ignore"):
        return float(kl_from_logs(log_tilt(p, r, lam), np.log(p)))


def kl_cap(p, r) -> float:
    """``log 1/p(C*)``: the largest KL a tilt reaches (paper B)."""
    return _cap(*as_reference(p, r))


def _cap(p: np.ndarray, r: np.ndarray) -> float:
    _, top = _top(p, r)
    return float(-np.log(np.sum(p[top])))


def kl_constrained(p, r, delta):
    """``(φ_Δ, λ)``: the reward-maximising policy with ``KL(φ ‖ p) = Δ`` (paper B).

    ``λ`` solves ``KL(φ_λ ‖ p) = Δ`` by Brent's method on ``log λ`` (the KL rises
    monotonically from 0 to the cap ``log 1/p(C*)``), so ``KL(φ_Δ ‖ p)`` matches ``Δ`` to
    about 1e-15 relative. ``Δ = 0`` gives ``(p, 0)``; ``Δ`` at or beyond the cap, or so
    close below it that the tilt equals ``p(· | C*)`` in doubles, gives ``(p(· | C*), inf)``;
    ``Δ < 1e-20`` takes ``λ = sqrt(2Δ/Var_p r)``, exact to relative ``O(λ)``.
    """
    p, r = as_reference(p, r)
    delta = float(delta)
    if not delta >= 0 or np.isinf(delta):
        raise ValueError(f"delta must be finite and >= 0, got {delta!r}")
    if delta == 0:
        return p.copy(), 0.0
    if delta >= _cap(p, r):
        return np.exp(log_tilt(p, r, np.inf)), np.inf
    support = p > 0
    if delta < _SMALL_DELTA:  # KL = λ²·Var/2·(1 + O(λ)): first order, exact to ~1e-10
        mean = p[support] @ r[support]
        lam = float(np.sqrt(2.0 * delta / (p[support] @ (r[support] - mean) ** 2)))
        return np.exp(log_tilt(p, r, lam)), lam

    def excess(log_lam: float) -> float:
        return np.log(tilt_kl(p, r, np.exp(log_lam))) - np.log(delta)

    rewards = np.unique(r[support])
    spread, gap = rewards[-1] - rewards[0], rewards[-1] - rewards[-2]
    low = high = np.log(np.sqrt(2.0 * delta) / spread)  # KL ≈ λ²·Var/2 <= (λ·spread)²/2
    while excess(low) > 0:
        low -= 2.0
    while excess(high) < 0:
        if np.exp(high) * gap > _SATURATED:  # φ_λ is p(·|C*) to double precision:
            return np.exp(log_tilt(p, r, np.inf)), np.inf  # Δ is the cap up to rounding
        high += 2.0
    log_lam = optimize.brentq(excess, low, high, xtol=1e-300, rtol=_ROOT_RTOL, maxiter=500)
    lam = float(np.exp(log_lam))
    return np.exp(log_tilt(p, r, lam)), lam


def reverse_kl_target(p, r, beta):
    """Gibbs target ``G_β(y) = p(y) e^{r(y)/β} / ζ`` of ``max E_π r − β KL(π ‖ p)`` (paper C).

    Finite for every ``beta > 0`` however large the reward gaps (``G_β = φ_{1/β}``, see
    :func:`log_tilt` for its logarithm); ``beta = 0`` gives ``p(· | C*)``.
    """
    beta = float(beta)
    if not beta >= 0 or np.isinf(beta):
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    return np.exp(log_tilt(p, r, np.inf if beta == 0 else 1.0 / beta))


def forward_kl_target(p, r, beta):
    """``(G_fwd, Λ)`` of ``max E_π r − β KL(p ‖ π)`` (paper C): ``G_fwd = β p/(Λ − r)``.

    ``Λ`` solves ``Σ_y β p(y)/(Λ − r(y)) = 1``: with ``u = Λ − max r`` the left side falls
    strictly on ``u > 0`` and the root lies in ``[β p(C*), β]`` (digest, "derived"), where
    Brent's method finds ``u`` to machine precision for any ``beta > 0``.

    Off the support: if an outcome with ``p = 0`` has a reward ``r_off`` above the root's
    ``Λ``, the optimum (by the KKT conditions) is ``Λ = r_off``, ``β p/(r_off − r)`` on the
    support, and the remaining mass on the zero-mass outcomes with reward ``r_off``; the
    objective has no preference among them, and we split it equally.
    """
    p, r = as_reference(p, r)
    beta = float(beta)
    if not beta > 0 or np.isinf(beta):
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    r_max, top = _top(p, r)
    support = p > 0
    gap = r_max - r[support]
    weight = beta * p[support]

    def excess(u: float) -> float:
        return float(np.sum(weight / (u + gap))) - 1.0

    low, high = beta * float(np.sum(p[top])), beta
    if excess(low) <= 0:  # rounding at the bracket's ends (one reward group: u = β exactly)
        u = low
    elif excess(high) >= 0:
        u = high
    else:
        u = optimize.brentq(excess, low, high, xtol=1e-300, rtol=_ROOT_RTOL, maxiter=500)
    lam = r_max + u
    target = np.zeros_like(p)
    off = ~support
    if np.any(off) and np.max(r[off]) > lam:
        lam = float(np.max(r[off]))
        target[support] = weight / (lam - r[support])
        best_off = off & (r == lam)
        target[best_off] = (1.0 - target.sum()) / np.count_nonzero(best_off)
        return target, lam
    target[support] = weight / (u + gap)
    return target / target.sum(), float(lam)


def cgf_derivatives(p, r, lam, orders: int = 4) -> np.ndarray:
    """``Λ^{(k)}(λ)`` for ``k = 1..orders`` (at most 4): the cumulants of ``r`` under ``φ_λ``.

    ``Λ'`` is the mean, ``Λ''`` the variance, ``Λ'''`` the third central moment and
    ``Λ''''`` the fourth central moment minus three times the squared variance (paper B,
    "Large deviations"). The moments are taken about the mean of ``φ_λ``, so nothing
    cancels beyond the ``μ₄ − 3μ₂²`` of the fourth cumulant. ``lam`` may be ``inf``.
    """
    if not 1 <= orders <= 4:
        raise ValueError(f"orders must be in 1..4, got {orders!r}")
    p, r = as_reference(p, r)
    phi = np.exp(log_tilt(p, r, lam))
    mean = float(np.sum(phi * r))
    centred = r - mean
    mu2, mu3, mu4 = (float(np.sum(phi * centred**k)) for k in (2, 3, 4))
    return np.array([mean, mu2, mu3, mu4 - 3.0 * mu2 * mu2][:orders])
