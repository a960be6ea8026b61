r"""Exponential tilts of a reference: the KL-constrained optimum and the KL-regularised targets.

- Tilt (paper B, "KL-constrained RL and its closed form"):
  ``φ_λ(y) = p(y)·e^{λ r(y)} / Z(λ)``, ``Λ(λ) = log E_p e^{λ r}``,
  ``KL(φ_λ ‖ p) = λΛ'(λ) − Λ(λ)``, increasing in λ from 0 to ``log 1/p(C*)``.
- Reverse-KL target (paper C, "The two targets"): ``G_β = φ_{1/β}``.
- Forward-KL target (paper C): ``G_fwd(y) = β·p(y)/(Λ − r(y))``, ``Σ_y G_fwd(y) = 1``.

Everything is computed with rewards shifted to ``r − max r <= 0``, so ``e^{λ(r − max r)}``
never overflows, for λ up to ``inf`` (the tilt's limit ``p(· | C*)``). Small tilts keep their
relative precision: ``log E_p e^{λ(r − max r)}`` is taken as ``log1p(E_p expm1(·))``
(:func:`bonkl.logspace.log_mean_exp`) and ``KL(φ_λ ‖ p)`` is summed from
``ℓ = log φ_λ/p = λ(r − max r) − log E_p e^{λ(r − max r)}`` itself, never as a difference of
two logs.

.. math::

    \phi_\lambda(y) = \frac{p(y)\, e^{\lambda r(y)}}{Z(\lambda)}, \qquad
    G_\beta = \phi_{1/\beta}, \qquad
    G_{\mathrm{fwd}}(y) = \frac{\beta\, p(y)}{\Lambda - r(y)}.

References
----------
J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of Language Model
Alignment", `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__ (paper B).

A. GX-Chen, J. Prakash, J. Guo, R. Fergus, R. Ranganath, "KL-Regularized Reinforcement
Learning is Designed to Mode Collapse", `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__
(paper C).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from bonkl._arrays import elementwise_policy
from bonkl.divergence import kl_from_logs, log_ratio_terms
from bonkl.groups import as_reference
from bonkl.logspace import log_mean_exp

__all__ = ["cgf", "cgf_derivatives", "forward_kl_matched", "forward_kl_target", "kl_cap",
           "kl_constrained", "log_tilt", "reverse_kl_target", "tilt_kl"]

_ROOT_RTOL = 4 * np.finfo(float).eps  # the tightest relative tolerance brentq accepts
_SMALL_DELTA = 1e-40  # below: λ from KL ≈ λ²Var/2, whose relative error O(λ) is below 1e-19


def _top(p: np.ndarray, r: np.ndarray) -> tuple[float, np.ndarray]:
    """The top reward on the support of ``p`` and the mask of ``C*``."""
    r_max = float(np.max(r[p > 0]))
    return r_max, (p > 0) & (r == r_max)


def log_tilt(p, r, lam):
    r"""``log φ_λ(y) = log p(y) + λ r(y) − Λ(λ)``: the log of the exponential tilt (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The tilt ``λ >= 0``; ``inf`` gives ``log p(· | C*)``.

    Returns
    -------
    ndarray
        ``log φ_λ``, shape ``(k,)``; ``-inf`` where ``p = 0`` (and off ``C*`` at ``λ = inf``).

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN, or ``(p, r)`` is not a reference.

    Notes
    -----
    .. math::

        \log \phi_\lambda(y) = \log p(y) + \lambda r(y) - \Lambda(\lambda), \qquad
        \Lambda(\lambda) = \log \mathbb{E}_p e^{\lambda r},

    computed with the rewards shifted to ``r − max r <= 0`` and normalised by a log-sum-exp,
    so nothing overflows for any ``λ``.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "KL-constrained RL and its closed form".

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import tilt
    >>> np.exp(tilt.log_tilt([0.5, 0.5], [0.0, 1.0], np.log(3.0))).round(6)
    array([0.25, 0.75])
    """
    p, r = as_reference(p, r)
    lam = _tilt_lam(lam)
    r_max, top = _top(p, r)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    if np.isinf(lam):
        return np.where(top, log_p - special.logsumexp(log_p[top]), -np.inf)
    exponent = log_p + lam * (r - r_max)  # normalised by its own log-sum-exp: sums to 1
    return exponent - special.logsumexp(exponent)


def _tilt_lam(lam) -> float:
    lam = float(lam)
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    return lam


def _log_ratio(p: np.ndarray, r: np.ndarray, lam: float) -> np.ndarray:
    """``log φ_λ/p = λ(r − max r) − log E_p e^{λ(r − max r)}`` for finite ``lam >= 0``."""
    shifted = lam * (r - _top(p, r)[0])
    return shifted - log_mean_exp(p, shifted)


def cgf(p, r, lam) -> float:
    r"""``Λ(λ) = log E_p e^{λ r}``: the cumulant generating function of the reward (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        Any finite ``λ``, of either sign.

    Returns
    -------
    float
        ``Λ(λ)``.

    Notes
    -----
    .. math::

        \Lambda(\lambda) = \log \sum_y p(y)\, e^{\lambda r(y)}.

    Unshifted where every ``|λ r| <= 1`` (then a small ``Λ`` keeps its relative precision),
    else with ``r`` shifted by its largest (``λ >= 0``) or smallest value, so nothing overflows.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "KL-constrained RL and its closed form".

    Examples
    --------
    >>> from bonkl import tilt
    >>> round(tilt.cgf([0.5, 0.5], [0.0, 1.0], 1.0), 12)  # log((1 + e)/2)
    0.620114506958
    """
    p, r = as_reference(p, r)
    support = p > 0
    lam = float(lam)
    if np.all(np.abs(lam * r[support]) <= 1.0):
        return log_mean_exp(p, lam * r)
    shift = np.max(r[support]) if lam >= 0 else np.min(r[support])
    return float(lam * shift + log_mean_exp(p, lam * (r - shift)))


def tilt_kl(p, r, lam) -> float:
    r"""``KL(φ_λ ‖ p)`` in nats, summed from ``ℓ = log φ_λ/p`` as non-negative terms.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The tilt ``λ >= 0``; ``inf`` gives ``log 1/p(C*)``.

    Returns
    -------
    float
        The KL in nats.

    Raises
    ------
    ValueError
        If ``lam`` is negative or NaN.

    Notes
    -----
    .. math::

        \mathrm{KL}(\phi_\lambda \,\|\, p) &= \lambda \Lambda'(\lambda) - \Lambda(\lambda) \\
        &= \sum_y p(y)\,\big(e^{\ell(y)} \ell(y) - e^{\ell(y)} + 1\big),
        \qquad \ell = \log \frac{\phi_\lambda}{p}.

    Relative precision holds down to the smallest λ (``KL ≈ λ² Var/2``).

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "KL-constrained RL and its closed form".

    Examples
    --------
    >>> from bonkl import tilt
    >>> f"{tilt.tilt_kl([0.5, 0.5], [0.0, 1.0], 1e-9):.6e}"  # λ² Var/2 = 1.25e-19
    '1.250000e-19'
    """
    p, r = as_reference(p, r)
    lam = _tilt_lam(lam)
    if np.isinf(lam):
        return _cap(p, r)
    return float(np.sum(log_ratio_terms(_log_ratio(p, r, lam), p)))


def kl_cap(p, r) -> float:
    r"""``log 1/p(C*)``: the largest KL a tilt reaches (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    float
        ``log 1/p(C*)`` in nats, ``C*`` the top-reward outcomes with ``p > 0``.

    Notes
    -----
    .. math::

        \lim_{\lambda \to \infty} \mathrm{KL}(\phi_\lambda \,\|\, p) = \log \frac{1}{p(C^*)}.

    From ``−log1p(−p(outside C*))`` when ``p(C*) > 1/2``, so a cap near 0 keeps its digits.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "KL-constrained RL and its closed form".

    Examples
    --------
    >>> from bonkl import tilt
    >>> round(tilt.kl_cap([0.5, 0.25, 0.25], [0.0, 1.0, 1.0]), 12)  # log 2
    0.69314718056
    """
    return _cap(*as_reference(p, r))


def _cap(p: np.ndarray, r: np.ndarray) -> float:
    _, top = _top(p, r)
    mass = np.sum(p[top])
    if mass > 0.5:
        return float(-np.log1p(-np.sum(p[~top])))
    return float(-np.log(mass))


def _log_cap_deficit(p: np.ndarray, r: np.ndarray, lam: float) -> float:
    """``log(log 1/p(C*) − KL(φ_λ ‖ p))`` for finite ``lam > 0``, without cancellation.

    With ``g = max r − r`` and ``w = Σ_{y ∉ C*} p e^{−λ g} / p(C*)``:
    ``KL(φ_λ ‖ p) = −λ E_φ g − log p(C*) − log1p(w)``, so the deficit is the sum of two
    non-negative terms ``log1p(w) + λ E_φ g``, with
    ``E_φ g = Σ_{y ∉ C*} p e^{−λ g} g / (p(C*)(1 + w))``; kept in logs, it keeps its relative
    precision as ``KL → log 1/p(C*)``.
    """
    r_max, top = _top(p, r)
    off = (p > 0) & ~top
    gap = r_max - r[off]
    log_terms = np.log(p[off]) - lam * gap - np.log(np.sum(p[top]))  # log of w's terms
    log_w = special.logsumexp(log_terms)
    log_log1p_w = log_w if log_w < -40.0 else np.log(np.log1p(np.exp(log_w)))
    log_mean_gap = special.logsumexp(log_terms, b=gap) - np.log1p(np.exp(log_w))
    return float(np.logaddexp(log_log1p_w, np.log(lam) + log_mean_gap))


def kl_constrained(p, r, delta):
    r"""``(φ_Δ, λ)``: the reward-maximising policy with ``KL(φ ‖ p) = Δ`` (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    delta : float or array_like
        KL budget(s) ``Δ >= 0`` in nats, finite.

    Returns
    -------
    phi : ndarray
        The optimal policy ``φ_Δ``: shape ``(k,)`` for a scalar ``delta``, else
        ``delta.shape + (k,)``.
    lam : float or ndarray
        The tilt ``λ(Δ)`` (``inf`` at or beyond the cap): a float for a scalar ``delta``,
        else an array of ``delta``'s shape.

    Raises
    ------
    ValueError
        If a ``delta`` is negative, infinite or NaN.

    Notes
    -----
    The optimum of ``max E_φ r`` subject to ``KL(φ ‖ p) <= Δ`` is the exponential tilt

    .. math::

        \phi_\Delta(y) = \frac{p(y)\, e^{\lambda r(y)}}{Z(\lambda)}, \qquad
        \Lambda(\lambda) = \log \mathbb{E}_p e^{\lambda r},

        \mathrm{KL}(\phi_\lambda \,\|\, p) = \lambda \Lambda'(\lambda) - \Lambda(\lambda)
        = \Delta.

    ``λ`` solves the KL equation by Brent's method on ``log λ`` (the KL rises
    monotonically from 0 to the cap ``log 1/p(C*)``), so ``KL(φ_Δ ‖ p)`` matches ``Δ`` to
    about 1e-15 relative. Above half the cap the root is taken on the deficit
    ``cap − KL(φ_λ ‖ p)`` against ``cap − Δ`` (``_log_cap_deficit``), which keeps its
    relative precision as Δ nears the cap; there the answer is ill-conditioned all the same:
    ``λ`` and the masses off ``C*`` move by a relative ``~ε·Δ/(cap − Δ)`` when Δ or the cap
    move by one rounding. ``Δ = 0`` gives ``(p, 0)``; ``Δ`` at or beyond the cap gives
    ``(p(· | C*), inf)``; ``Δ < 1e-40`` takes ``λ = sqrt(2Δ/Var_p r)``, exact to relative
    ``O(λ)``. An array of budgets is solved one root at a time.

    References
    ----------
    J. Q. Yang, S. Salamatian, Z. Sun, A. T. Suresh, A. Beirami, "Asymptotics of Language
    Model Alignment", `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__,
    "KL-constrained RL and its closed form".

    Examples
    --------
    >>> from bonkl import tilt
    >>> phi, lam = tilt.kl_constrained([0.5, 0.5], [0.0, 1.0], 0.1)
    >>> phi.round(6), round(lam, 6)
    (array([0.280205, 0.719795]), 0.943443)
    >>> phis, lams = tilt.kl_constrained([0.5, 0.5], [0.0, 1.0], [0.0, 0.1, 1.0])
    >>> phis.shape, lams
    ((3, 2), array([0.        , 0.94344312,        inf]))
    """
    p, r = as_reference(p, r)
    return elementwise_policy(lambda budget: _kl_constrained(p, r, budget), delta, p.size)


def _kl_constrained(p: np.ndarray, r: np.ndarray, delta: float) -> tuple[np.ndarray, float]:
    """:func:`kl_constrained` for one budget, on a checked reference."""
    if not delta >= 0 or np.isinf(delta):
        raise ValueError(f"delta must be finite and >= 0, got {delta!r}")
    if delta == 0:
        return p.copy(), 0.0
    cap = _cap(p, r)
    if delta >= cap:
        return np.exp(log_tilt(p, r, np.inf)), np.inf
    support = p > 0
    if delta < _SMALL_DELTA:  # KL = λ²·Var/2·(1 + O(λ)): first order
        mean = p[support] @ r[support]
        lam = float(np.sqrt(2.0 * delta / (p[support] @ (r[support] - mean) ** 2)))
        return np.exp(log_tilt(p, r, lam)), lam

    def excess(log_lam: float) -> float:  # increasing in log λ
        if delta > cap / 2:
            return np.log(cap - delta) - _log_cap_deficit(p, r, np.exp(log_lam))
        return np.log(tilt_kl(p, r, np.exp(log_lam))) - np.log(delta)

    spread = np.ptp(r[support])
    low = high = np.log(np.sqrt(2.0 * delta) / spread)  # KL ≈ λ²·Var/2 <= (λ·spread)²/2
    while excess(low) > 0:
        low -= 2.0
    while excess(high) < 0:
        high += 2.0
    log_lam = optimize.brentq(excess, low, high, xtol=1e-300, rtol=_ROOT_RTOL, maxiter=500)
    lam = float(np.exp(log_lam))
    return np.exp(log_tilt(p, r, lam)), lam


def reverse_kl_target(p, r, beta):
    r"""Gibbs target ``G_β(y) = p(y) e^{r(y)/β} / ζ`` of ``max E_π r − β KL(π ‖ p)`` (paper C).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    beta : float
        The regularisation coefficient ``β >= 0``, finite; ``0`` gives ``p(· | C*)``.

    Returns
    -------
    ndarray
        ``G_β``, shape ``(k,)``.

    Raises
    ------
    ValueError
        If ``beta`` is negative, infinite or NaN.

    Notes
    -----
    .. math::

        G_\beta(y) = \frac{p(y)\, e^{r(y)/\beta}}{\sum_{y'} p(y')\, e^{r(y')/\beta}}.

    Finite for every ``beta > 0`` however large the reward gaps (``G_β = φ_{1/β}``, see
    :func:`log_tilt` for its logarithm).

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §3 ("The two targets").

    Examples
    --------
    >>> from bonkl import tilt
    >>> tilt.reverse_kl_target([1/3, 1/3, 1/3], [0.0, 0.9, 1.0], 0.5).round(6)
    array([0.069258, 0.418988, 0.511753])
    """
    beta = float(beta)
    if not beta >= 0 or np.isinf(beta):
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    return np.exp(log_tilt(p, r, np.inf if beta == 0 else 1.0 / beta))


def forward_kl_target(p, r, beta):
    r"""``(G_fwd, Λ)`` of ``max E_π r − β KL(p ‖ π)`` (paper C): ``G_fwd = β p/(Λ − r)``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    beta : float
        The regularisation coefficient ``β > 0``, finite.

    Returns
    -------
    target : ndarray
        ``G_fwd``, shape ``(k,)``.
    lam : float
        The multiplier ``Λ > max r``.

    Raises
    ------
    ValueError
        If ``beta`` is not finite and positive.

    Notes
    -----
    .. math::

        G_{\mathrm{fwd}}(y) = \frac{\beta\, p(y)}{\Lambda - r(y)}, \qquad
        \sum_y \frac{\beta\, p(y)}{\Lambda - r(y)} = 1, \qquad \Lambda > \max r.

    With ``s = (Λ − max r)/β`` the equation reads ``Σ_y p(y)/(s + (max r − r(y))/β) = 1``,
    whose left side falls strictly in ``s > 0``, with the root in ``[p(C*), 1]`` (digest,
    "derived"). Brent's method on ``log s`` then one Newton step find ``s`` to machine
    precision for any ``beta > 0``, also when ``β p(C*)`` is far below the double range;
    ``G_fwd = p/(s + (max r − r)/β)``.

    Off the support: if an outcome with ``p = 0`` has a reward ``r_off`` above the root's
    ``Λ``, the optimum (by the KKT conditions) is ``Λ = r_off``, ``β p/(r_off − r)`` on the
    support, and the remaining mass on the zero-mass outcomes with reward ``r_off``; the
    objective has no preference among them, and we split it equally.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §3, Eq. 5.

    Examples
    --------
    >>> from bonkl import tilt
    >>> target, lam = tilt.forward_kl_target([0.5, 0.5], [0.0, 1.0], 1.0)
    >>> target.round(6), round(lam, 6)  # Λ = 1 + 1/√2
    (array([0.292893, 0.707107]), 1.707107)
    """
    p, r = as_reference(p, r)
    beta = float(beta)
    if not beta > 0 or np.isinf(beta):
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    r_max, top = _top(p, r)
    support = p > 0
    mass = p[support]
    with np.errstate(over="ignore"):
        scaled_gap = (r_max - r[support]) / beta

    def excess(s: float) -> float:
        return float(np.sum(mass / (s + scaled_gap))) - 1.0

    low, high = float(np.sum(p[top])), 1.0
    if excess(low) <= 0:  # rounding at the bracket's ends (one reward group: s = 1 exactly)
        s = low
    elif excess(high) >= 0:
        s = high
    else:
        s = np.exp(optimize.brentq(lambda t: excess(np.exp(t)), np.log(low), 0.0,
                                   xtol=_ROOT_RTOL, rtol=_ROOT_RTOL, maxiter=500))
        terms = mass / (s + scaled_gap)  # Newton: brentq's tolerance on log s is absolute
        s = float(np.clip(s + (terms.sum() - 1.0) / np.sum(terms / (s + scaled_gap)), low, high))
    lam = r_max + beta * s
    target = np.zeros_like(p)
    off = ~support
    if np.any(off) and np.max(r[off]) > lam:
        lam = float(np.max(r[off]))
        target[support] = beta * mass / (lam - r[support])
        best_off = off & (r == lam)
        target[best_off] = (1.0 - target.sum()) / np.count_nonzero(best_off)
        return target, lam
    target[support] = mass / (s + scaled_gap)
    return target / target.sum(), float(lam)


def forward_kl_matched(p, r, delta):
    r"""``(G_fwd, β)``: the forward-KL-regularised target whose ``KL(G_fwd ‖ p)`` is ``Δ``.

    The forward-KL twin of :func:`kl_constrained`: the member of paper C's forward family
    at the KL budget of paper B's tilt, for comparing the two at equal KL.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    delta : float or array_like
        KL budget(s) ``Δ`` in nats, each in ``(0, log 1/p(C*))``.

    Returns
    -------
    target : ndarray
        ``G_fwd`` at the matching ``β``: shape ``(k,)`` for a scalar ``delta``, else
        ``delta.shape + (k,)``.
    beta : float or ndarray
        The matching ``β``: a float for a scalar ``delta``, else an array of its shape.

    Raises
    ------
    ValueError
        If a ``delta`` is outside ``(0, log 1/p(C*))``.

    Notes
    -----
    ``KL(G_fwd,β ‖ p)`` falls from ``log 1/p(C*)`` (``β → 0``) to 0 (``β → ∞``); Brent's
    method on ``log β`` solves

    .. math::

        \mathrm{KL}\big(G_{\mathrm{fwd},\beta} \,\|\, p\big) = \Delta, \qquad
        G_{\mathrm{fwd},\beta}(y) = \frac{\beta\, p(y)}{\Lambda_\beta - r(y)},

    one root per element.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §3 (the matching is ours).

    Examples
    --------
    >>> from bonkl import tilt
    >>> target, beta = tilt.forward_kl_matched([0.5, 0.5], [0.0, 1.0], 0.1)
    >>> target.round(6), round(beta, 6)
    (array([0.280205, 0.719795]), 0.917631)
    """
    p, r = as_reference(p, r)
    return elementwise_policy(lambda budget: _forward_kl_matched(p, r, budget), delta, p.size)


def _forward_kl_matched(p: np.ndarray, r: np.ndarray, delta: float) -> tuple[np.ndarray, float]:
    """:func:`forward_kl_matched` for one budget, on a checked reference."""
    if not 0 < delta < _cap(p, r):
        raise ValueError(f"delta = {delta!r} must lie in (0, log 1/p(C*) = {_cap(p, r)!r})")
    log_p = np.log(p)

    def excess(log_beta: float) -> float:  # decreasing in log β
        target, _ = forward_kl_target(p, r, np.exp(log_beta))
        with np.errstate(divide="ignore"):
            return float(kl_from_logs(np.log(target), log_p)) - delta

    low, high = -2.0, 2.0
    while excess(low) < 0:
        low -= 4.0
    while excess(high) > 0:
        high += 4.0
    log_beta = optimize.brentq(excess, low, high, xtol=1e-14, rtol=_ROOT_RTOL)
    return forward_kl_target(p, r, np.exp(log_beta))[0], float(np.exp(log_beta))


def cgf_derivatives(p, r, lam, orders: int = 4) -> np.ndarray:
    r"""``Λ^{(k)}(λ)`` for ``k = 1..orders``: the cumulants of ``r`` under ``φ_λ`` (paper B).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    lam : float
        The tilt ``λ >= 0``; may be ``inf``.
    orders : int
        How many derivatives, 1 to 4.

    Returns
    -------
    ndarray
        ``[Λ'(λ), Λ''(λ), ...]``, length ``orders``.

    Raises
    ------
    ValueError
        If ``orders`` is not in 1..4.

    Notes
    -----
    .. math::

        \Lambda' = \mu, \quad \Lambda'' = \mu_2, \quad \Lambda''' = \mu_3, \quad
        \Lambda'''' = \mu_4 - 3\mu_2^2,

    the mean and central moments of ``r`` under ``φ_λ`` ("Large deviations"). The moments
    are taken about the mean of ``φ_λ``, found as an offset from φ's likeliest reward (so
    rewards close to each other, e.g. 1000 and 1000 − 1e-6 under a large λ, keep their exact
    differences), and nothing cancels beyond the ``μ₄ − 3μ₂²`` of the fourth cumulant.

    References
    ----------
    J. Q. Yang et al., "Asymptotics of Language Model Alignment",
    `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__, "Large deviations".

    Examples
    --------
    >>> from bonkl import tilt
    >>> tilt.cgf_derivatives([0.5, 0.5], [0.0, 1.0], 0.0)  # a fair coin's cumulants
    array([ 0.5  ,  0.25 ,  0.   , -0.125])
    """
    if not 1 <= orders <= 4:
        raise ValueError(f"orders must be in 1..4, got {orders!r}")
    p, r = as_reference(p, r)
    phi = np.exp(log_tilt(p, r, lam))
    mode = float(r[np.argmax(phi)])
    offset = float(np.sum(phi * (r - mode)))
    centred = np.where(phi > 0, (r - mode) - offset, 0.0)
    mu2, mu3, mu4 = (float(np.sum(phi * centred**k)) for k in (2, 3, 4))
    return np.array([mode + offset, mu2, mu3, mu4 - 3.0 * mu2 * mu2][:orders])
