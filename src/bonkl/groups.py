"""Reward tie groups of a reference and their reward-ordered CDFs, in logs.

Outcomes sharing a reward form a group ``C``. With groups sorted by reward,
``F_C = p(r <= r_C)`` and ``F⁻_C = p(r < r_C)`` (paper A, "Setting"). Both are
kept in two accurate forms: the mass strictly below ``C`` summed from the bottom
(accurate when small) and the mass strictly above ``C`` summed from the top
(accurate when small), so that ``log F``, ``log F⁻`` and ``log(F⁻/F)`` keep full
relative precision whether ``F`` is near 0 or near 1 (best-of-n digest,
"Numerical care").

References
----------
A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh,
"Theoretical guarantees on the best-of-n alignment policy",
`arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__ (paper A).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RewardGroups", "as_reference", "reward_groups"]


def as_reference(p, r) -> tuple[np.ndarray, np.ndarray]:
    r"""Check and return ``(p, r)`` as float arrays, ``p`` rescaled to sum to exactly 1.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    p : ndarray
        ``p / Σ p``.
    r : ndarray
        ``r`` as floats.

    Raises
    ------
    ValueError
        If ``p`` is not a non-empty 1-D vector of finite masses ``>= 0`` summing to 1 within
        1e-9, or ``r`` is not finite and of the same shape; the message names the bad entry.

    Notes
    -----
    The rescaling only removes rounding:

    .. math::

        \Big|\sum_y p(y) - 1\Big| \le 10^{-9}.

    Examples
    --------
    >>> from bonkl.groups import as_reference
    >>> as_reference([0.5, 0.5], [0, 1])
    (array([0.5, 0.5]), array([0., 1.]))
    """
    p = np.asarray(p, dtype=float)
    r = np.asarray(r, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"p must be a non-empty 1-D probability vector, got shape {p.shape}")
    if r.shape != p.shape:
        raise ValueError(f"r must have the shape of p {p.shape}, got {r.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        bad = int(np.flatnonzero(~np.isfinite(p) | (p < 0))[0])
        raise ValueError(f"p[{bad}] = {p[bad]!r}: probabilities must be finite and >= 0")
    if not np.all(np.isfinite(r)):
        bad = int(np.flatnonzero(~np.isfinite(r))[0])
        raise ValueError(f"r[{bad}] = {r[bad]!r}: rewards must be finite")
    total = p.sum()
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"p sums to {total!r}, expected 1 (within 1e-9)")
    return p / total, r


@dataclass(frozen=True)
class RewardGroups:
    r"""Tie groups of ``(p, r)`` in increasing reward order (zero-mass outcomes left out).

    Attributes
    ----------
    order : ndarray
        Outcome indices with ``p > 0`` sorted by reward (stable), over outcomes.
    starts : ndarray
        Position in ``order`` where each group begins; ``starts[-1]`` is ``len(order)``.
    mass : ndarray
        ``p(C)`` (this and the following are arrays over groups).
    log_mass : ndarray
        ``log p(C)``, from ``log1p(-(rest))`` when ``p(C) > 1/2``.
    below : ndarray
        ``F⁻_C``, summed from the bottom.
    above : ndarray
        ``1 - F_C``, summed from the top.
    log_f : ndarray
        ``log F_C``.
    log_ratio : ndarray
        ``log(F⁻_C / F_C)`` (``-inf`` for the lowest group).

    Examples
    --------
    >>> from bonkl.groups import reward_groups
    >>> groups = reward_groups([0.2, 0.3, 0.5], [1, 1, 0])
    >>> groups.mass, groups.above
    (array([0.5, 0.5]), array([0.5, 0. ]))
    """

    order: np.ndarray
    starts: np.ndarray
    mass: np.ndarray
    log_mass: np.ndarray
    below: np.ndarray
    above: np.ndarray
    log_f: np.ndarray
    log_ratio: np.ndarray

    @property
    def top_mass(self) -> float:
        """``p(C*)``, the mass of the top-reward group."""
        return float(self.mass[-1])

    def group_of_outcome(self, size: int) -> np.ndarray:
        """Group index of every outcome (``-1`` for zero-mass outcomes), over ``size`` outcomes."""
        index = np.full(size, -1, dtype=np.int64)
        index[self.order] = np.repeat(np.arange(self.mass.size), np.diff(self.starts))
        return index


def reward_groups(p, r) -> RewardGroups:
    r"""Build the tie groups of a reference ``(p, r)``; see :class:`RewardGroups`.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    RewardGroups
        The groups in increasing reward order with their CDFs in two accurate forms.

    Notes
    -----
    With groups sorted by reward,

    .. math::

        F_C = p(r \le r_C), \qquad F^-_C = p(r < r_C),

    each kept as the mass below ``C`` summed from the bottom and the mass above summed from
    the top, so ``log F``, ``log F⁻`` and ``log(F⁻/F)`` keep full relative precision at
    both ends.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Setting".

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl.groups import reward_groups
    >>> np.exp(reward_groups([0.2, 0.3, 0.5], [1, 1, 0]).log_f)
    array([0.5, 1. ])
    """
    p, r = as_reference(p, r)
    support = np.flatnonzero(p > 0)
    order = support[np.argsort(r[support], kind="stable")]
    sorted_r = r[order]
    first = np.flatnonzero(np.r_[True, sorted_r[1:] != sorted_r[:-1]])
    starts = np.r_[first, order.size]
    mass = np.minimum(np.add.reduceat(p[order], first), 1.0)

    below = np.r_[0.0, np.cumsum(mass)[:-1]]
    above = np.r_[np.cumsum(mass[::-1])[::-1][1:], 0.0]
    upper_half = above < 0.5
    f = np.where(upper_half, 1.0 - above, below + mass)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = np.where(upper_half, np.log1p(-above), np.log(below + mass))
        log_fminus = np.where(below < 0.5, np.log(below), np.log1p(-(above + mass)))
        share = mass / f
        log_ratio = np.where(share < 0.5, np.log1p(-np.minimum(share, 0.5)), log_fminus - log_f)
        log_mass = np.where(mass > 0.5, np.log1p(-np.minimum(below + above, 0.5)), np.log(mass))
    return RewardGroups(order, starts, mass, log_mass, below, above, log_f, log_ratio)
