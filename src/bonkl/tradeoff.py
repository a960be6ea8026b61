r"""The win-rate/KL trade-off: the optimal curves, and best-of-n read at a given KL.

Paper A, "Win rate versus KL". The win rate against the reference is linear in the
policy, ``W(π) = Σ_y π(y)·m(y)`` with the mid-rank reward ``m = (F + F⁻)/2``
(``F(y) = p(r <= r(y))``, ``F⁻(y) = p(r < r(y))``), so the largest win rate at
``KL(π ‖ p) = Δ`` is reached by the exponential tilt of ``p`` by ``m``, the reverse-KL
target of :mod:`bonkl.tilt`. The tilts are computed with the reward ``m - 1 = -(1 - m)``
(the same tilts: a constant shift), whose values near the top keep their precision.

In the continuous limit (``m = u``, the reference quantile, uniform on [0, 1]) the tilt
has density ``g_λ(u) = λ e^{λu}/(e^λ - 1)`` (the paper writes β for λ), with
``W(λ) = 1/(1 - e^{-λ}) - 1/λ`` and ``KL(λ) = log(λ/(e^λ - 1)) + λ W(λ)``. With
``x = λ/2`` these are ``W = (1 + coth x - 1/x)/2`` and ``KL = x coth x - 1 - log(sinh x / x)``,
the forms used here (series for small ``x``).

.. math::

    W(\pi) = \sum_y \pi(y)\, m(y), \qquad m = \tfrac{1}{2}(F + F^-), \qquad
    W^*(\Delta) = \max_{\mathrm{KL}(\pi \| p) = \Delta} W(\pi).

References
----------
A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh,
"Theoretical guarantees on the best-of-n alignment policy",
`arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from bonkl import bestofn, tilt
from bonkl._arrays import elementwise
from bonkl.groups import as_reference, reward_groups

__all__ = ["best_of_n_at_kl", "continuous_optimum", "continuous_optimum_win_rate",
           "formula_n_at_kl", "mid_rank_loss", "mid_rank_reward", "optimum_curve",
           "optimum_win_rate"]

_SERIES_LAM = 2e-2  # below this λ the series of KL(λ) and 1 - W(λ) are used
_CAP_RTOL = 1e-12  # a KL this close to the cap (relative) gets the optimum p(· | C*)
_TINY_KL = 1e-20  # below this KL the optimum's win rate is 1/2 + sqrt(2 KL Var) to rounding


def mid_rank_loss(p, r) -> np.ndarray:
    r"""``1 − m(y) = p(r > r(y)) + p(r = r(y))/2`` for every outcome (any mass, even 0).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    ndarray
        ``1 − m``, shape ``(k,)``.

    Notes
    -----
    ``m(y) = (F(y) + F⁻(y))/2`` is the probability that ``y`` beats a reference draw,
    ties counting half; the upper tails are summed from the top, so a loss near 0 keeps its
    digits:

    .. math::

        1 - m(y) = p\big(r > r(y)\big) + \tfrac{1}{2}\, p\big(r = r(y)\big).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> tradeoff.mid_rank_loss([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2])
    array([0.65, 0.65, 0.95, 0.2 ])
    """
    p, r = as_reference(p, r)
    groups = reward_groups(p, r)
    rewards = r[groups.order[groups.starts[:-1]]]
    strictly_above = np.r_[groups.above + groups.mass, 0.0]  # p(r >= r_C), then 0
    k = np.searchsorted(rewards, r, side="right")  # groups below index k have reward <= r
    tied = (k > 0) & (rewards[np.maximum(k - 1, 0)] == r)
    return strictly_above[k] + np.where(tied, 0.5 * groups.mass[np.maximum(k - 1, 0)], 0.0)


def mid_rank_reward(p, r) -> np.ndarray:
    r"""``m(y) = (F(y) + F⁻(y))/2``: the win rate of outcome ``y`` against the reference.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    ndarray
        ``m``, shape ``(k,)``.

    Notes
    -----
    .. math::

        m(y) = \tfrac{1}{2}\big(F(y) + F^-(y)\big), \qquad
        W(\pi) = \sum_y \pi(y)\, m(y).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> tradeoff.mid_rank_reward([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2])
    array([0.35, 0.35, 0.05, 0.8 ])
    """
    return 1.0 - mid_rank_loss(p, r)


def optimum_curve(p, r, betas) -> tuple[np.ndarray, np.ndarray]:
    r"""``(KL, W)`` of the reverse-KL targets ``G_β ∝ p e^{m/β}`` over the grid ``betas``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    betas : array_like
        Coefficients ``β >= 0``; ``β = 0`` gives ``p(· | C*)``.

    Returns
    -------
    kl : ndarray
        ``KL(G_β ‖ p)`` in nats, one per ``β``.
    win : ndarray
        ``W(G_β)``, one per ``β``.

    Notes
    -----
    ``G_β`` maximises ``W(π) − β KL(π ‖ p)``; over ``β`` it traces the exact discrete optimum
    of win rate against KL:

    .. math::

        G_\beta(y) \propto p(y)\, e^{m(y)/\beta}, \qquad W(G_\beta) = \sum_y G_\beta(y)\, m(y).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> kl, win = tradeoff.optimum_curve([0.5, 0.5], [0.0, 1.0], [0.0, 1.0])
    >>> kl.round(6), win.round(6)
    (array([0.693147, 0.0303  ]), array([0.75   , 0.56123]))
    """
    loss = mid_rank_loss(p, r)
    kls, wins = [], []
    for beta in np.asarray(betas, dtype=float):
        target = tilt.reverse_kl_target(p, -loss, beta)
        kls.append(tilt.tilt_kl(p, -loss, np.inf if beta == 0 else 1.0 / beta))
        wins.append(1.0 - target @ loss)
    return np.array(kls), np.array(wins)


def optimum_win_rate(p, r, deltas) -> np.ndarray:
    r"""The largest win rate of any policy with ``KL(π ‖ p) = Δ``, for each ``Δ`` of ``deltas``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    deltas : array_like
        KLs ``Δ >= 0`` in nats.

    Returns
    -------
    ndarray
        One win rate per ``Δ``.

    Notes
    -----
    The tilt by ``m`` with that KL (:func:`bonkl.tilt.kl_constrained`); beyond the cap
    ``log 1/p(C*)`` it is ``p(· | C*)``, whose win rate ``1 − p(C*)/2`` no policy exceeds:

    .. math::

        W^*(\Delta) = \max_{\pi:\ \mathrm{KL}(\pi \| p) = \Delta} \sum_y \pi(y)\, m(y).

    Two ends are taken apart, where :func:`bonkl.tilt.kl_constrained` would search forever
    for a KL its own rounding cannot resolve: a ``Δ`` within 1e-12 (relative) of the cap, or
    beyond it, gets the endpoint ``p(· | C*)`` (its KL as computed by
    :func:`bonkl.tilt.tilt_kl` can fall an ulp short of ``log 1/p(C*)``), and
    a ``Δ`` below ``1e-20`` gets ``1/2 + sqrt(2 Δ Var_p(m))``, whose error ``O(Δ)`` is
    below the resolution of a double near 1/2 (``W = 1/2 + λ Var + O(λ²)``,
    ``KL = λ² Var/2 + O(λ³)``).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> tradeoff.optimum_win_rate([0.5, 0.5], [0.0, 1.0], [0.0, 0.1, 1.0]).round(6)
    array([0.5     , 0.609897, 0.75    ])
    """
    loss = mid_rank_loss(p, r)
    p, _ = as_reference(p, r)
    near_cap = (1.0 - _CAP_RTOL) * min(tilt.tilt_kl(p, -loss, np.inf), tilt.kl_cap(p, r))
    top_win = 1.0 - tilt.reverse_kl_target(p, -loss, 0.0) @ loss
    variance = p @ (loss - 0.5) ** 2

    def optimum(delta: float) -> float:
        if delta >= near_cap:
            return top_win
        if delta < _TINY_KL:
            return 0.5 + np.sqrt(2.0 * max(delta, 0.0) * variance)
        return 1.0 - tilt.kl_constrained(p, -loss, delta)[0] @ loss

    return np.array([optimum(delta) for delta in np.asarray(deltas, dtype=float)])


def continuous_optimum(lam) -> tuple[np.ndarray, np.ndarray]:
    r"""``(KL(λ), W(λ))`` of the continuous-limit optimum ``g_λ`` (paper A), ``λ >= 0``.

    Parameters
    ----------
    lam : float or array_like
        ``λ >= 0``, finite.

    Returns
    -------
    kl : float or ndarray
        ``KL(g_λ ‖ U[0, 1])`` in nats.
    win : float or ndarray
        ``W(λ)``; floats for a scalar ``lam``, arrays of its shape otherwise.

    Raises
    ------
    ValueError
        If a ``lam`` is negative or not finite.

    Notes
    -----
    .. math::

        g_\lambda(u) = \frac{\lambda e^{\lambda u}}{e^\lambda - 1}, \quad
        W(\lambda) = \frac{1}{1 - e^{-\lambda}} - \frac{1}{\lambda}, \quad
        \mathrm{KL}(\lambda) = \log\frac{\lambda}{e^\lambda - 1} + \lambda W(\lambda),

    computed with ``x = λ/2`` as ``W = (1 + coth x − 1/x)/2`` and
    ``KL = x coth x − 1 − log(sinh x / x)`` (series for ``λ < 0.02``; for ``x >= 1`` the two
    terms of size ``x`` cancel in closed form).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> kl, win = tradeoff.continuous_optimum(2.0)
    >>> round(kl, 6), round(win, 6)
    (0.151596, 0.656518)
    """
    lam = np.asarray(lam, dtype=float)
    if not np.all(np.isfinite(lam) & (lam >= 0)):
        raise ValueError(f"lam must be finite and >= 0, got {lam!r}")
    x = lam / 2.0
    small = lam < _SERIES_LAM
    xs = np.where(small, x, 1.0)
    xl = np.where(small, 1.0, x)
    x2 = xs * xs
    kl_series = x2 * (1.0 / 6.0 - x2 * (1.0 / 60.0 - x2 / 567.0))
    ls = 2.0 * xs  # λ where the series is used
    loss_series = 0.5 - ls * (1.0 / 12.0 - ls * ls / 720.0)
    # x ≥ 1: x coth x − x = 2x e^{−2x}/(1 − e^{−2x}) and log(sinh x/x) − x = log1p(−e^{−2x})
    # − log 2x, so the two terms of size x cancel in closed form (not in rounding: λ ~ 1e18)
    decay = np.exp(-2.0 * xl)
    kl_large = 2.0 * xl * decay / -np.expm1(-2.0 * xl) - 1.0 - np.log1p(-decay) + np.log(2.0 * xl)
    x_mid = np.minimum(xl, 1.0)
    kl_mid = x_mid / np.tanh(x_mid) - 1.0 - np.log(np.sinh(x_mid) / x_mid)
    kl_direct = np.where(xl < 1.0, kl_mid, kl_large)
    loss_direct = 1.0 / (2.0 * xl) - np.exp(-2.0 * xl) / -np.expm1(-2.0 * xl)  # 1/λ - 1/(e^λ-1)
    kl = np.where(small, kl_series, kl_direct)
    win = 1.0 - np.where(small, loss_series, loss_direct)
    if kl.ndim == 0:
        return float(kl), float(win)
    return kl, win


def continuous_optimum_win_rate(delta):
    r"""The continuous-limit optimum's win rate at ``KL = Δ``.

    Parameters
    ----------
    delta : float or array_like
        KL(s) ``Δ >= 0`` in nats, finite.

    Returns
    -------
    float or ndarray
        ``W(λ(Δ))``: a float for a scalar ``delta``, else an array of ``delta``'s shape.

    Raises
    ------
    ValueError
        If a ``delta`` is negative, infinite or NaN.

    Notes
    -----
    ``λ`` solves ``KL(λ) = Δ`` by Brent's method on ``log λ`` (one root per element), then

    .. math::

        W(\lambda) = \frac{1}{1 - e^{-\lambda}} - \frac{1}{\lambda}, \qquad
        \mathrm{KL}(\lambda) = \log\frac{\lambda}{e^\lambda - 1} + \lambda W(\lambda)
        = \Delta,

    with ``W(0) = 1/2`` (:func:`continuous_optimum`).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> tradeoff.continuous_optimum_win_rate([0.0, 1.0, 5.0]).round(6)
    array([0.5     , 0.864579, 0.997521])
    """
    return elementwise(_continuous_optimum_win_rate, delta)


def _continuous_optimum_win_rate(delta: float) -> float:
    if not delta >= 0 or np.isinf(delta):
        raise ValueError(f"delta must be finite and >= 0, got {delta!r}")
    if delta == 0:
        return 0.5

    def excess(log_lam: float) -> float:
        return np.log(continuous_optimum(np.exp(log_lam))[0]) - np.log(delta)

    low, high = np.log(np.sqrt(24.0 * delta)) - 1.0, max(delta + 2.0, 1.0)  # KL ≈ λ²/24, log λ - 1
    while excess(low) > 0:
        low -= 2.0
    while excess(high) < 0:
        high += 2.0
    log_lam = optimize.brentq(excess, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return continuous_optimum(np.exp(log_lam))[1]


def best_of_n_at_kl(p, r, delta, max_doublings: int = 1000) -> tuple[float, float]:
    r"""``(n, W)``: best-of-n at ``KL = Δ``, interpolated linearly between consecutive integers.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    delta : float
        The KL ``Δ`` in nats, in ``[0, log 1/p(C*))``.
    max_doublings : int
        Bound of the search for ``n``: up to ``2^(max_doublings + 1)``.

    Returns
    -------
    n : float
        The fractional ``n − 1 + t``.
    win : float
        The interpolated win rate.

    Raises
    ------
    ValueError
        If ``delta`` is outside ``[0, log 1/p(C*))`` or not reached by the search.

    Notes
    -----
    With ``KL(π_{n-1}) < Δ <= KL(π_n)`` and ``t`` the fraction of the KL step,

    .. math::

        t = \frac{\Delta - \mathrm{KL}(\pi_{n-1})}{\mathrm{KL}(\pi_n) - \mathrm{KL}(\pi_{n-1})},
        \qquad W = (1 - t)\, W_{n-1} + t\, W_n.

    Drawing ``n − 1`` or ``n`` at random with weights ``1 − t``, ``t`` reaches that win rate
    with a KL at most ``Δ`` (KL is convex), so this is a win rate best-of-n achieves. The
    default search reaches ``n`` of about 1e301: a KL of about 690 nats, masses down to 1e-300.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate versus KL".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> n, win = tradeoff.best_of_n_at_kl([0.25, 0.25, 0.25, 0.25], [0, 1, 2, 3], 0.3)
    >>> round(n, 6), round(win, 6)
    (2.552822, 0.699439)
    """
    p, r = as_reference(p, r)
    delta = float(delta)
    cap = -np.log(bestofn.top_mass(p, r))
    if not 0 <= delta < cap:
        raise ValueError(f"delta={delta!r} must lie in [0, log 1/p(C*) = {cap!r})")
    if delta == 0:
        return 1.0, 0.5
    high = 2
    for _ in range(max_doublings):
        if bestofn.kl(p, r, high) >= delta:
            break
        high *= 2
    else:
        raise ValueError(f"KL {delta!r} is not reached by n <= {high}: too close to the cap")
    low = high // 2  # KL(low) < delta <= KL(high), or low = 1
    while high - low > 1:
        mid = (low + high) // 2
        if bestofn.kl(p, r, mid) >= delta:
            high = mid
        else:
            low = mid
    kl_low, kl_high = bestofn.kl(p, r, np.array([high - 1.0, float(high)]))
    t = (delta - kl_low) / (kl_high - kl_low) if kl_high > kl_low else 1.0
    w_low, w_high = bestofn.win_rate(p, r, np.array([high - 1.0, float(high)]))
    return float(high - 1.0 + t), float(w_low + t * (w_high - w_low))


def formula_n_at_kl(delta) -> float:
    r"""The real ``n >= 1`` with ``log n − (n−1)/n = Δ``: best-of-n's n at KL Δ in the continuous
    limit.

    Parameters
    ----------
    delta : float
        The KL ``Δ >= 0`` in nats, finite.

    Returns
    -------
    float
        ``n``, by Brent's method on ``log n`` (the left side increases in ``n``).

    Raises
    ------
    ValueError
        If ``delta`` is negative, infinite or NaN.

    Notes
    -----
    .. math::

        \log n - \frac{n - 1}{n} = \Delta.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "KL divergence".

    Examples
    --------
    >>> from bonkl import tradeoff
    >>> import math
    >>> round(tradeoff.formula_n_at_kl(math.log(999) - 998 / 999), 9)
    999.0
    """
    delta = float(delta)
    if not delta >= 0 or np.isinf(delta):
        raise ValueError(f"delta must be finite and >= 0, got {delta!r}")
    if delta == 0:
        return 1.0
    log_n = optimize.brentq(lambda t: bestofn.kl_formula(np.exp(t)) - delta, 0.0, delta + 2.0,
                            xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return float(np.exp(log_n))
