r"""Rewind-and-repeat: resample from the reference until the reward reaches a threshold.

Paper A, "Rewind-and-repeat": with threshold ``τ`` the policy is ``p(· | r >= τ)``, its
``KL(p(· | r >= τ) ‖ p) = log 1/A`` with acceptance mass ``A = p(r >= τ)``, and it costs
``1/A`` reference draws on average. Its win rate against a fresh reference draw (ties
counting half) is ``Σ_{C: r_C >= τ} p(C)/A · (F_C + F⁻_C)/2``. ``A`` is summed from the
top reward down, so ``log 1/A`` keeps its precision for tiny acceptance masses.

Every function takes a scalar threshold ``tau`` or an array of them (one pass over the
tie groups for all): a float for a scalar, an array of ``tau``'s shape otherwise
(:func:`policy` and :func:`sample` add a trailing axis).

.. math::

    \pi_\tau = p(\cdot \mid r \ge \tau), \qquad
    \mathrm{KL}(\pi_\tau \,\|\, p) = \log \frac{1}{A}, \qquad A = p(r \ge \tau).

References
----------
A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh,
"Theoretical guarantees on the best-of-n alignment policy",
`arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Rewind-and-repeat".
"""

from __future__ import annotations

import numpy as np

from bonkl._arrays import float_or_array
from bonkl.groups import as_reference, reward_groups

__all__ = ["accept_mass", "expected_draws", "kl", "policy", "quantile_thresholds", "sample",
           "win_rate"]


def _accepted(p, r, tau):
    """Tie groups, the index of the lowest accepted group per threshold, ``A`` per threshold.

    ``tau`` is a scalar or an array; ``A`` (and the index) have its shape.
    """
    groups = reward_groups(p, r)
    rewards = r[groups.order[groups.starts[:-1]]]
    tau = np.asarray(tau, dtype=float)
    first = np.searchsorted(rewards, tau, side="left")
    rejected = (first == rewards.size) | np.isnan(tau)
    if np.any(rejected):
        bad = float(tau[rejected].flat[0]) if tau.ndim else float(tau)
        raise ValueError(f"threshold tau={bad!r} is above every reward with p > 0 "
                         f"(top reward {rewards[-1]!r}): nothing is ever accepted")
    return groups, first, groups.above[first] + groups.mass[first]


def quantile_thresholds(p, r, count: int) -> np.ndarray:
    r"""Distinct thresholds at the reward quantiles of levels ``1 - t``, ``t`` log-spaced.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    count : int
        Number of tail levels ``t``, at least 1.

    Returns
    -------
    ndarray
        The distinct thresholds, increasing (at most ``count`` of them).

    Raises
    ------
    ValueError
        If ``count < 1``.

    Notes
    -----
    The ``count`` tail levels ``t`` run log-evenly from 1 down to ``p(C*)``; each gives the
    highest reward ``τ`` with ``p(r >= τ) >= t`` (so ``t = 1`` gives the lowest reward, the
    reference itself, and ``t = p(C*)`` the top reward):

    .. math::

        \tau(t) = \max\{\rho : p(r \ge \rho) \ge t\},
        \qquad t \in \{1, \dots, p(C^*)\} \text{ log-spaced}.

    Thresholds that coincide are kept once.

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.quantile_thresholds([0.9, 0.09, 0.01], [0.0, 1.0, 2.0], 3)
    array([0., 1., 2.])
    """
    p, r = as_reference(p, r)
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count!r}")
    groups = reward_groups(p, r)
    rewards = r[groups.order[groups.starts[:-1]]]
    accept = groups.above + groups.mass  # p(r >= r_C), decreasing over groups
    levels = np.exp(np.linspace(0.0, np.log(groups.top_mass), int(count)))
    # highest group whose acceptance mass reaches the level (the top group reaches p(C*))
    index = np.searchsorted(-accept, -levels * (1.0 - 1e-12), side="right") - 1
    return np.unique(rewards[np.clip(index, 0, rewards.size - 1)])


def accept_mass(p, r, tau):
    r"""The acceptance mass ``A = p(r >= τ)``, summed from the top reward.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.

    Returns
    -------
    float or ndarray
        ``A``: a float for a scalar ``tau``, else an array of ``tau``'s shape.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0`` (or is NaN).

    Notes
    -----
    .. math::

        A(\tau) = \sum_{y:\, r(y) \ge \tau} p(y).

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.accept_mass([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], [0.0, 1.0, 2.0])
    array([1. , 0.9, 0.4])
    """
    p, r = as_reference(p, r)
    return float_or_array(_accepted(p, r, tau)[2], tau)


def policy(p, r, tau) -> np.ndarray:
    r"""The rewind-and-repeat policy ``p(y | r >= τ)``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.

    Returns
    -------
    ndarray
        Shape ``(k,)`` for a scalar ``tau``, ``tau.shape + (k,)`` otherwise.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0``.

    Notes
    -----
    .. math::

        \pi_\tau(y) = \frac{p(y)\, \mathbf{1}[r(y) \ge \tau]}{p(r \ge \tau)}.

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.policy([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], 1.0)
    array([0.22222222, 0.33333333, 0.        , 0.44444444])
    """
    p, r = as_reference(p, r)
    mass = _accepted(p, r, tau)[2]
    tau = np.asarray(tau, dtype=float)
    return np.where(r >= tau[..., None], p, 0.0) / mass[..., None]


def kl(p, r, tau):
    r"""``KL(p(· | r >= τ) ‖ p) = log 1/p(r >= τ)`` in nats.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.

    Returns
    -------
    float or ndarray
        The KL in nats: a float for a scalar ``tau``, else an array of ``tau``'s shape.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0``.

    Notes
    -----
    .. math::

        \mathrm{KL}(\pi_\tau \,\|\, p) = \log \frac{1}{A}, \qquad A = p(r \ge \tau).

    ``A`` is summed from the top, so a tiny ``A`` keeps its digits; when ``A > 1/2`` the
    KL is ``-log1p(-(1 - A))`` with ``1 - A`` summed from the bottom.

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.kl([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], [1.0, 2.0])
    array([0.10536052, 0.91629073])
    >>> rewind.kl([1 - 1e-300, 1e-300], [0, 1], 1.0)  # log 1e300
    690.7755278982137
    """
    p, r = as_reference(p, r)
    groups, first, mass = _accepted(p, r, tau)
    below = groups.below[first]  # 1 - A, accurate from the bottom; used where A > 1/2
    values = np.where(mass > 0.5, -np.log1p(-np.minimum(below, 0.5)), -np.log(mass))
    return float_or_array(values, tau)


def expected_draws(p, r, tau):
    r"""``1/p(r >= τ)``: the mean number of reference draws until one is accepted.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.

    Returns
    -------
    float or ndarray
        A float for a scalar ``tau``, else an array of ``tau``'s shape.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0``.

    Notes
    -----
    The number of draws is geometric with success probability ``A``:

    .. math::

        \mathbb{E}[\text{draws}] = \frac{1}{p(r \ge \tau)}.

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.expected_draws([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], 2.0)
    2.5
    """
    return float_or_array(1.0 / np.asarray(accept_mass(p, r, tau)), tau)


def win_rate(p, r, tau):
    r"""``P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2`` for ``Y ~ p(· | r >= τ)``, ``Z ~ p``.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.

    Returns
    -------
    float or ndarray
        The win rate, ties counting half: a float for a scalar ``tau``, else an array of
        ``tau``'s shape.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0``.

    Notes
    -----
    Summed as one minus the loss, from the upper tails ``1 - F_C``:

    .. math::

        W(\tau) = 1 - \sum_{C:\, r_C \ge \tau} \frac{p(C)}{A}
        \Big(1 - F_C + \frac{p(C)}{2}\Big),

    the inner sums accumulated from the top group down for all thresholds at once.

    Examples
    --------
    >>> from bonkl import rewind
    >>> rewind.win_rate([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], [0.0, 2.0])
    array([0.5, 0.8])
    """
    p, r = as_reference(p, r)
    groups, first, mass = _accepted(p, r, tau)
    loss = groups.mass * (groups.above + 0.5 * groups.mass)
    from_top = np.cumsum(loss[::-1])[::-1]  # Σ over the groups from each one up
    return float_or_array(1.0 - from_top[first] / mass, tau)


def sample(p, r, tau, size: int, rng: np.random.Generator) -> np.ndarray:
    r"""Indices of ``size`` rewind-and-repeat draws, per threshold.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``; ties allowed.
    tau : float or array_like
        Threshold(s), none above the top reward on the support of ``p``.
    size : int
        Number of draws per threshold.
    rng : numpy.random.Generator
        The source of randomness; thresholds draw in order from it.

    Returns
    -------
    ndarray of int
        Outcome indices, shape ``(size,)`` for a scalar ``tau``, else
        ``tau.shape + (size,)``.

    Raises
    ------
    ValueError
        If a threshold is above every reward with ``p > 0``.

    Notes
    -----
    The draw that is finally accepted is distributed as ``p`` conditioned on ``r >= τ``,
    whatever the number of rejections before it, so it is drawn from that conditional
    directly (inverse CDF over the accepted outcomes): ``O(log |Y|)`` per draw instead of
    ``1/A`` reference draws. ``tests/unit/test_rewind.py`` checks it against a literal loop.

    .. math::

        Y = F_\tau^{-1}(U), \quad U \sim \mathcal{U}[0, 1), \quad
        F_\tau \text{ the CDF of } p(\cdot \mid r \ge \tau).

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import rewind
    >>> draws = rewind.sample([0.2, 0.3, 0.1, 0.4], [1, 1, 0, 2], 2.0, 5,
    ...                       np.random.default_rng(0))
    >>> draws.tolist()  # only the top outcome reaches τ = 2
    [3, 3, 3, 3, 3]
    """
    p, r = as_reference(p, r)
    _accepted(p, r, tau)
    tau = np.asarray(tau, dtype=float)

    def draw(threshold: float) -> np.ndarray:
        kept = np.flatnonzero((r >= threshold) & (p > 0))
        cdf = np.cumsum(p[kept])
        pick = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
        return kept[np.minimum(pick, kept.size - 1)]

    if tau.ndim == 0:
        return draw(float(tau))
    draws = [draw(float(t)) for t in tau.ravel()]
    return np.array(draws, dtype=np.int64).reshape(tau.shape + (int(size),))
