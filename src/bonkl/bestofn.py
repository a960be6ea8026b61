"""The best-of-n policy: pmf, exact KL, the usual formula, the paper's estimator, sampling.

Source: Beirami et al., "Theoretical guarantees on the best-of-n alignment policy"
(paper A; digest ``papers/best_of_n.md``). ``p`` is a probability vector, ``r`` the
rewards (ties allowed), ``n >= 1`` a scalar or an array (real ``n`` is accepted: the
formulas are the continuous extension of the integer case). All mass computations are
in logs: ``F^n = exp(n log F)`` with ``log F`` taken from whichever tail is small.

References
----------
A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh,
"Theoretical guarantees on the best-of-n alignment policy",
`arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__ (paper A).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from bonkl.divergence import kl_from_logs
from bonkl.groups import RewardGroups, as_reference, reward_groups
from bonkl.logspace import log1mexp

__all__ = ["binary_kl_closed_form", "estimator_monte_carlo", "expected_kl_estimator",
           "expected_kl_estimator_of_groups", "gap_bound_reported", "gap_bound_tie_groups", "kl",
           "kl_estimator", "kl_formula", "kl_of_groups", "pmf", "sample", "top_mass", "win_rate",
           "win_rate_of_groups"]

# A group whose best-of-n mass is below e^-48 of its reference mass adds to the KL the term
# p(C)·(1 + e^ℓ(ℓ - 1)) with ℓ < -48, i.e. p(C) to a relative 2^-60: it is summed in closed
# form. A group whose best-of-n mass is below e^-746 underflows to 0 in doubles.
_NEGLIGIBLE_LOG_RATIO = -48.0
_UNDERFLOW = -746.0
_BLOCK_SIZE = 2**16  # elements of a work array (n values x groups)


def _as_n(n) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    if not np.all(np.isfinite(n)) or np.any(n < 1):
        raise ValueError(f"n must be finite and >= 1, got {n!r}")
    return n


def _scalar_or_array(values: np.ndarray, n: np.ndarray):
    return float(values[0]) if n.ndim == 0 else values.reshape(n.shape + values.shape[1:])


def _live_from(groups: RewardGroups, n: np.ndarray, log_floor: float) -> np.ndarray:
    """Per ``n``: the first group whose ``log(π_n(C)/p(C))`` may exceed ``log_floor``.

    ``π_n(C) = F_C^n - F⁻_C^n <= n p(C) F_C^(n-1)`` (mean value theorem), so the groups with
    ``log n + (n-1) log F_C < log_floor`` are below it; ``log F_C`` increases with the group.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(n > 1, (log_floor - np.log(n)) / (n - 1.0), -np.inf)
    return np.searchsorted(groups.log_f, bound)


def _blocks(groups: RewardGroups, n: np.ndarray, log_floor: float):
    """``(rows, n_column, start)`` over blocks of the 1-D ``n``: as many ``n`` at once as keep
    the work arrays near ``_BLOCK_SIZE`` elements (every ``n`` at once for a small reference, one
    at a time for a large one), each from the first group live for one of them
    (:func:`_live_from`); the groups below ``start`` are left to the caller."""
    live = _live_from(groups, n, log_floor)
    rows = max(1, _BLOCK_SIZE // groups.mass.size)
    for first in range(0, n.size, rows):
        block = slice(first, first + rows)
        yield block, n[block, None], int(live[block].min())


def _log_group_pmf(groups: RewardGroups, n: np.ndarray, start: int = 0) -> np.ndarray:
    """``log π_n(C) = n log F_C + log(1 - (F⁻_C/F_C)^n)`` for the groups from ``start`` on,
    shape ``(len(n), groups - start)`` for a column ``n``.

    At ``n = 1`` this is ``log p(C)`` exactly (best-of-1 is the reference).
    """
    return np.where(n == 1, groups.log_mass[start:],
                    n * groups.log_f[start:] + log1mexp(n * groups.log_ratio[start:]))


def kl_formula(n):
    r"""``log n − (n−1)/n``: the formula used across the literature (paper A, "KL divergence").

    Parameters
    ----------
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The formula in nats: a float for a scalar ``n``, else an array of its shape.

    Notes
    -----
    .. math::

        \mathrm{KL}_{\mathrm{formula}}(n) = \log n - \frac{n - 1}{n},

    exact only when the reward law has no atoms: ``KL(Beta(n, 1) ‖ U[0, 1])``. For real ``n``
    close to 1 it is summed as ``Σ_{k>=2} y^k/k``, ``y = (n−1)/n < 0.1`` (``= −log(1−y) − y``),
    since the two terms cancel to ``~(n−1)²/2``.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "KL divergence".

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.kl_formula([1, 2, 1000]).round(6)
    array([0.      , 0.193147, 5.908755])
    """
    n = _as_n(n)
    y = (n - 1.0) / n
    series = np.zeros_like(y)
    for k in range(18, 1, -1):  # y^18/18 < 1e-16 of y²/2 for y < 0.1
        series = (series + 1.0 / k) * y
    value = np.where(y < 0.1, series * y, np.log(n) - 1.0 + 1.0 / n)
    return float(value) if n.ndim == 0 else value


def pmf(p, r, n):
    r"""Best-of-n pmf ``π_n(y) = p(y)/p(C)·(F_C^n − F⁻_C^n)`` (paper A, "Best-of-n pmf").

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    ndarray
        ``π_n``: shape ``(k,)`` for a scalar ``n``, ``n.shape + (k,)`` otherwise.

    Notes
    -----
    Ties share their group's mass in proportion to ``p``: for ``y`` in the tie group ``C``,

    .. math::

        \pi_n(y) = \frac{p(y)}{p(C)} \left(F_C^{\,n} - (F_C^-)^n\right), \qquad
        F_C = p(r \le r_C), \quad F_C^- = p(r < r_C),

    with ``F^n = exp(n log F)`` and ``log F`` taken from whichever tail is small.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Best-of-n pmf".

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.pmf([0.5, 0.5], [0.0, 1.0], 2)
    array([0.25, 0.75])
    >>> bestofn.pmf([0.2, 0.3, 0.5], [1.0, 1.0, 0.0], 2).round(6)  # a tie keeps 2:3
    array([0.3 , 0.45, 0.25])
    """
    p, r = as_reference(p, r)
    n = _as_n(n)
    groups = reward_groups(p, r)
    group = groups.group_of_outcome(p.size)
    inside = group >= 0
    share = p[inside] / groups.mass[group[inside]]
    out = np.zeros((n.size, p.size))
    out[:, inside] = share * np.exp(_log_group_pmf(groups, n.reshape(-1, 1)))[:, group[inside]]
    return out[0] if n.ndim == 0 else out.reshape(n.shape + (p.size,))


def kl_of_groups(groups: RewardGroups, n: np.ndarray) -> np.ndarray:
    r"""Exact ``KL(π_n ‖ p)`` for each ``n`` of the 1-D array ``n``, from prebuilt groups.

    Parameters
    ----------
    groups : bonkl.groups.RewardGroups
        The tie groups of the reference (:func:`bonkl.groups.reward_groups`).
    n : ndarray
        1-D array of ``n >= 1``.

    Returns
    -------
    ndarray
        One KL per ``n``, nats.

    Notes
    -----
    For callers that evaluate one reference many times (:func:`kl` builds the groups each
    call). Over the groups that matter only: those below the first group whose best-of-n mass
    may exceed ``e^-48`` of its reference mass add their reference mass, ``F⁻`` of that group,
    in closed form:

    .. math::

        \mathrm{KL} = F^-_{C_k} + \sum_{C \ge C_k} p(C)\,\big(e^{\ell}\ell - e^{\ell} + 1\big),
        \qquad \ell = \log \frac{\pi_n(C)}{p(C)}.

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import bestofn, groups
    >>> bestofn.kl_of_groups(groups.reward_groups([0.5, 0.5], [0, 1]), np.array([2.0])).round(6)
    array([0.130812])
    """
    values = np.empty(n.size)
    for rows, m, k in _blocks(groups, n, _NEGLIGIBLE_LOG_RATIO):
        values[rows] = groups.below[k] + kl_from_logs(_log_group_pmf(groups, m, k),
                                                      groups.log_mass[k:])
    return values


def kl(p, r, n):
    r"""Exact ``KL(π_n ‖ p)`` in nats (paper A, "KL divergence"); ``n`` scalar or array.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The KL in nats: a float for a scalar ``n``, else an array of ``n``'s shape.

    Notes
    -----
    .. math::

        \mathrm{KL}(\pi_n \,\|\, p) = \sum_C \pi_n(C) \log \frac{\pi_n(C)}{p(C)}
        \;\le\; \log n - \frac{n - 1}{n},

    a sum over tie groups of non-negative terms (:mod:`bonkl.divergence`); groups whose
    best-of-n mass is below ``e^-48`` of their reference mass are summed in closed form.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "KL divergence".

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.kl([0.5, 0.5], [0.0, 1.0], [1, 2, 30]).round(6)  # log 2 − h(2⁻ⁿ)
    array([0.      , 0.130812, 0.693147])
    """
    n = _as_n(n)
    return _scalar_or_array(kl_of_groups(reward_groups(p, r), n.ravel()), n)


def win_rate_of_groups(groups: RewardGroups, n: np.ndarray) -> np.ndarray:
    r""":func:`win_rate` for each ``n`` of the 1-D array ``n``, from prebuilt groups.

    Parameters
    ----------
    groups : bonkl.groups.RewardGroups
        The tie groups of the reference (:func:`bonkl.groups.reward_groups`).
    n : ndarray
        1-D array of ``n >= 1``.

    Returns
    -------
    ndarray
        One win rate per ``n``.

    Notes
    -----
    Groups whose best-of-n mass underflows to 0 are skipped:

    .. math::

        W_n = 1 - \sum_C \pi_n(C)\,\Big(1 - F_C + \frac{p(C)}{2}\Big).

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import bestofn, groups
    >>> bestofn.win_rate_of_groups(groups.reward_groups([0.5, 0.5], [0, 1]), np.array([1.0, 2.0]))
    array([0.5  , 0.625])
    """
    loss_if_drawn = groups.above + 0.5 * groups.mass  # 1 - (F_C + F⁻_C)/2
    values = np.empty(n.size)
    for rows, m, k in _blocks(groups, n, _UNDERFLOW):
        values[rows] = 1.0 - np.exp(_log_group_pmf(groups, m, k)) @ loss_if_drawn[k:]
    return values


def win_rate(p, r, n):
    r"""``W_n = P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2``, ``Y ~ π_n``, ``Z ~ p`` (paper A, "Win rate").

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The win rate, ties counting half: a float for a scalar ``n``, else an array.

    Notes
    -----
    .. math::

        W_n = \sum_C \pi_n(C)\, \frac{F_C + F_C^-}{2} \;\le\; \frac{n}{n + 1},

    summed as ``1 − Σ_C π_n(C)·(1 − F_C + p(C)/2)`` with the upper tails ``1 − F_C`` taken
    from the top, so that ``1 − W_n`` keeps its relative precision as ``W_n → 1``.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate".

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.win_rate([0.25, 0.25, 0.25, 0.25], [0, 1, 2, 3], [1, 2])
    array([0.5    , 0.65625])
    """
    n = _as_n(n)
    return _scalar_or_array(win_rate_of_groups(reward_groups(p, r), n.ravel()), n)


def _series_or(x: np.ndarray, coefficients, direct: np.ndarray) -> np.ndarray:
    """``Σ_k c_k x^k`` (``coefficients`` from ``k = 2`` on) where ``|x| < 0.1``, else ``direct``:
    the power series of a function that vanishes to second order at 0, where its closed form
    cancels. ``x`` may be infinite or NaN where ``direct`` is used."""
    small = np.abs(x) < 0.1
    x = np.where(small, x, 0.0)
    series = np.zeros_like(x)
    for c in coefficients[::-1]:
        series = (series + c) * x
    return np.where(small, series * x, direct)


# Series coefficients from x^2 on, 17 terms (|x|^19 < 1e-16 of the x^2 term for |x| < 0.1):
# ψ(s) = 1 - e^s (1 - s) = Σ (k-1) s^k / k!, and
# h(1+d) = (1+d) log(1+d) - d = Σ (-1)^k d^k / (k(k-1)).
_PSI = [(k - 1) / float(special.factorial(k)) for k in range(2, 19)]
_H = [(-1.0) ** k / (k * (k - 1)) for k in range(2, 19)]


def _estimator(log_eps: np.ndarray, log_rest: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``D̂_n(ε)`` from ``log ε`` and ``log(1-ε)``, both given accurately, as a sum of two
    non-negative terms.

    ``D̂_n(ε)`` is the KL of best-of-n for an atom of mass ε at the top over a continuous
    rest; adding ``p - π`` to each part (the two parts' additions cancel) writes it as
    ``(1-ε)·[e^s·φ(n) + ψ(s)] + ε·h(1 + d)`` with ``s = (n-1) log(1-ε)``,
    ``φ(n) = log n - (n-1)/n``, ``ψ(s) = 1 - e^s (1 - s)``, ``h(t) = t log t - t + 1`` and
    ``1 + d = (1 - (1-ε)^n)/ε``, ``d = (1-ε)(1 - e^s)/ε``. Each term is a KL integrand's
    Bregman form, so neither is negative, and at ``n = 1`` (``s = d = 0``) both are exactly 0;
    ψ and h are summed as power series where their closed forms cancel (``ε·h(1 + d)`` is
    ``A log(A/ε) - ε d`` with ``A = 1 - (1-ε)^n`` for ``d >= 0.1``).
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        s = np.where(np.isneginf(log_rest), -np.inf, (n - 1.0) * log_rest)
        s = np.where(n == 1, 0.0, s)  # 0·(-inf) at a single outcome
        rest = np.exp(log_rest)
        psi = _series_or(s, _PSI, 1.0 - np.exp(s) * (1.0 - s))
        continuous = np.where(rest > 0, rest * (np.exp(s) * kl_formula(n) + psi), 0.0)
        lost = rest * -np.expm1(s)  # ε·d = (1-ε) - (1-ε)^n, 0 exactly at n = 1
        d = lost / np.exp(log_eps)
        log_atom = log1mexp(np.where(n == 1, log_eps, n * log_rest))  # log(1 - (1-ε)^n)
        direct = np.exp(log_atom) * (log_atom - log_eps) - lost  # no overflow as ε -> 0
        atom = _series_or(d, _H, direct) * np.where(
            d < 0.1, np.exp(log_eps), 1.0)
    return continuous + atom


def kl_estimator(eps, n):
    r"""The paper's estimator ``D̂_n(ε)`` (paper A, "The proposed estimator").

    Parameters
    ----------
    eps : float or array_like
        The mass ``ε`` in ``(0, 1]`` of the selected outcome.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        ``D̂_n(ε)`` in nats, ``eps`` and ``n`` broadcast together.

    Raises
    ------
    ValueError
        If an ``eps`` is outside ``(0, 1]`` or an ``n`` below 1.

    Notes
    -----
    .. math::

        \hat D_n(\varepsilon) &= (1-\varepsilon)^n \Big[\log n + (n-1)\log(1-\varepsilon)
        - \frac{n-1}{n}\Big] \\
        &\quad + \big(1 - (1-\varepsilon)^n\big) \log \frac{1 - (1-\varepsilon)^n}{\varepsilon},

    the exact KL of best-of-n for a reference that is continuous except for one atom of mass
    ``ε`` at the top reward, computed as two non-negative terms. For ``ε`` near 1 the
    accuracy is that of ``1 − ε`` in doubles; :func:`expected_kl_estimator` avoids this by
    summing the other masses.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "The proposed estimator".

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.kl_estimator([1e-9, 0.5, 1.0], 100).round(6)
    array([3.61517 , 0.693147, 0.      ])
    """
    eps = np.asarray(eps, dtype=float)
    n = _as_n(n)
    if not np.all((eps > 0) & (eps <= 1)):
        raise ValueError(f"eps must lie in (0, 1], got {eps!r}")
    with np.errstate(divide="ignore"):
        value = _estimator(np.log(eps), np.log1p(-eps), n)
    return float(value) if value.ndim == 0 else value


def expected_kl_estimator_of_groups(p: np.ndarray, groups: RewardGroups,
                                    n: np.ndarray) -> np.ndarray:
    r""":func:`expected_kl_estimator` for each ``n`` of the 1-D array ``n``, from a checked ``p``
    and its groups.

    Parameters
    ----------
    p : ndarray
        Reference probabilities, checked (:func:`bonkl.groups.as_reference`).
    groups : bonkl.groups.RewardGroups
        The tie groups of ``(p, r)``.
    n : ndarray
        1-D array of ``n >= 1``.

    Returns
    -------
    ndarray
        One expected estimator per ``n``, nats.

    Notes
    -----
    Outcomes whose best-of-n mass underflows to 0 are skipped:

    .. math::

        \sum_y \pi_n(y)\, \hat D_n(p(y)).

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import bestofn, groups
    >>> p = np.array([0.5, 0.5])
    >>> values = bestofn.expected_kl_estimator_of_groups(p, groups.reward_groups(p, [0, 1]),
    ...                                                  np.array([1.0]))
    >>> values.round(6)
    array([0.])
    """
    support = groups.order
    group = groups.group_of_outcome(p.size)[support]
    mass = p[support]
    log_rest = np.log1p(-np.minimum(mass, 0.5))
    dominant = mass > 0.5
    with np.errstate(divide="ignore"):  # a single outcome: log 0 = -inf is right
        log_rest[dominant] = np.log(np.sum(mass[~dominant]))
    log_mass = np.log(mass)
    log_mass[dominant] = log1mexp(log_rest[dominant])
    share = mass / groups.mass[group]
    values = np.empty(n.size)
    for rows, m, k in _blocks(groups, n, _UNDERFLOW):
        j = groups.starts[k]  # the outcomes, sorted by group, from group k on
        weight = share[j:] * np.exp(_log_group_pmf(groups, m, k))[:, group[j:] - k]
        values[rows] = np.sum(weight * _estimator(log_mass[j:], log_rest[j:], m), axis=1)
    return values


def expected_kl_estimator(p, r, n):
    r"""``E_{y ~ π_n}[D̂_n(p(y))]``, computed exactly (paper A, "The proposed estimator").

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The expected estimator in nats: a float for a scalar ``n``, else an array.

    Notes
    -----
    .. math::

        \mathbb{E}_{y \sim \pi_n}\big[\hat D_n(p(y))\big] = \sum_y \pi_n(y)\, \hat D_n(p(y)).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__,
    "The proposed estimator" (Conjecture 4.4: it upper-bounds the KL).

    Examples
    --------
    >>> from bonkl import bestofn
    >>> p, r = [0.25, 0.25, 0.25, 0.25], [0, 1, 2, 3]
    >>> bestofn.expected_kl_estimator(p, r, 4) >= bestofn.kl(p, r, 4)
    True
    """
    p, r = as_reference(p, r)
    n = _as_n(n)
    return _scalar_or_array(expected_kl_estimator_of_groups(p, reward_groups(p, r), n.ravel()),
                            n)


def gap_bound_reported(p, n):
    r"""``2n(n−1)·Σ_y p(y)²``: the reported bound on ``log n − (n−1)/n − KL`` (paper A, Thm 3.4).

    Parameters
    ----------
    p : array_like
        Reference probabilities.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The bound: a float for a scalar ``n``, else an array.

    Notes
    -----
    Under distinct rewards (the paper's Assumption 2.1):

    .. math::

        \log n - \frac{n-1}{n} - \mathrm{KL}(\pi_n \,\|\, p) \le 2n(n-1) \sum_y p(y)^2.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, Theorem 3.4 (reported).

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.gap_bound_reported([0.25, 0.25, 0.25, 0.25], [1, 2])
    array([0., 1.])
    """
    p = np.asarray(p, dtype=float)
    n = _as_n(n)
    value = 2.0 * n * (n - 1.0) * np.sum(p * p)
    return float(value) if n.ndim == 0 else value


def gap_bound_tie_groups(p, r, n):
    r"""``2n(n−1)·Σ_C p(C)²``: the same bound with tie groups in place of outcomes (ours).

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The bound: a float for a scalar ``n``, else an array.

    Notes
    -----
    .. math::

        \log n - \frac{n-1}{n} - \mathrm{KL}(\pi_n \,\|\, p) \le 2n(n-1) \sum_C p(C)^2,

    our tie-aware reading of Theorem 3.4: best-of-n sees only the groups.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__,
    Theorem 3.4 (the tie-group form is ours).

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.gap_bound_tie_groups([0.25, 0.25, 0.5], [0, 0, 1], 2)
    2.0
    """
    n = _as_n(n)
    mass = reward_groups(p, r).mass
    value = 2.0 * n * (n - 1.0) * np.sum(mass * mass)
    return float(value) if n.ndim == 0 else value


def top_mass(p, r) -> float:
    r"""``p(C*)``, the reference mass of the top-reward group.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.

    Returns
    -------
    float
        ``p(C*)``.

    Notes
    -----
    .. math::

        p(C^*) = \sum_{y:\, r(y) = \max r} p(y),

    over the support of ``p``; ``KL(π_n ‖ p) → log 1/p(C*)`` as ``n → ∞``.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "KL divergence" (saturation).

    Examples
    --------
    >>> from bonkl import bestofn
    >>> bestofn.top_mass([0.5, 0.2, 0.3], [0.0, 1.0, 1.0])
    0.5
    """
    return reward_groups(p, r).top_mass


def binary_kl_closed_form(n):
    r"""``log 2 − h(2^-n)``: KL of best-of-n for two equally likely outcomes (paper A, example).

    Parameters
    ----------
    n : float or array_like
        Number of draws ``n >= 1``, finite; real ``n`` is the continuous extension.

    Returns
    -------
    float or ndarray
        The KL in nats: a float for a scalar ``n``, else an array.

    Notes
    -----
    ``h`` is the binary entropy in nats:

    .. math::

        \mathrm{KL}(\pi_n \,\|\, p) = \log 2 - h(2^{-n}), \qquad
        h(x) = -x \log x - (1 - x) \log(1 - x).

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "KL divergence" (worked example).

    Examples
    --------
    >>> from bonkl import bestofn
    >>> round(bestofn.binary_kl_closed_form(2), 6)
    0.130812
    """
    n = _as_n(n)
    x = np.exp(-n * np.log(2.0))
    h = -special.xlogy(x, x) - special.xlog1py(1.0 - x, -x)
    value = np.log(2.0) - h
    return float(value) if n.ndim == 0 else value


def sample(p, r, n, size, rng: np.random.Generator) -> np.ndarray:
    r"""Indices of ``size`` best-of-n draws, ``O(log |Y|)`` each whatever ``n`` is.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float
        Number of draws ``n >= 1``.
    size : int
        Number of best-of-n draws.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    ndarray of int
        Outcome indices, shape ``(size,)``.

    Notes
    -----
    The max of ``n`` uniforms is ``V = U^{1/n}``; its upper tail

    .. math::

        1 - V = -\operatorname{expm1}\!\Big(\frac{\log U}{n}\Big)

    is inverted against the tie groups' upper tails (summed from the top), then an outcome is
    picked inside the group in proportion to ``p`` by bisection. Tail probabilities are
    resolved to ``2^-53``: an outcome whose best-of-n probability is below that is drawn at a
    rate of at most ``2^-53`` per draw.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "Win rate" (sampling).

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import bestofn
    >>> draws = bestofn.sample([0.5, 0.5], [0.0, 1.0], 10**6, 4, np.random.default_rng(0))
    >>> draws.tolist()  # P(outcome 0) = 2^-1000000
    [1, 1, 1, 1]
    """
    p, r = as_reference(p, r)
    n = float(_as_n(n))
    groups = reward_groups(p, r)
    tail = -np.expm1(np.log1p(-rng.random(size)) / n)
    above_topdown = groups.above[::-1]
    top_rank = np.searchsorted(above_topdown, tail, side="right") - 1
    group = groups.mass.size - 1 - top_rank

    position_group = np.repeat(np.arange(groups.mass.size), np.diff(groups.starts))
    within = pd.Series(p[groups.order]).groupby(position_group).cumsum().to_numpy()
    within = within / groups.mass[position_group]
    pick = rng.random(size)
    lo = groups.starts[group]
    hi = groups.starts[group + 1] - 1
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        right = within[mid] <= pick
        lo = np.where(right, mid + 1, lo)
        hi = np.where(right, hi, mid)
    return groups.order[lo]


def estimator_monte_carlo(p, r, n, draws: int, rng: np.random.Generator, level: float = 0.95):
    r"""Monte-Carlo estimator: mean of ``D̂_n(p(y))`` over ``draws`` best-of-n draws.

    Parameters
    ----------
    p : array_like
        Reference probabilities, shape ``(k,)``, non-negative, summing to 1.
    r : array_like
        Rewards, shape ``(k,)``, finite; ties allowed.
    n : float
        Number of draws per best-of-n sample, ``n >= 1``.
    draws : int
        Number of best-of-n draws ``M``.
    rng : numpy.random.Generator
        The source of randomness.
    level : float
        Confidence level of the interval.

    Returns
    -------
    mean, low, high : float
        The estimate and its normal-approximation interval at ``level``.

    Notes
    -----
    .. math::

        \widehat{\mathrm{KL}} = \frac{1}{M} \sum_{i=1}^{M} \hat D_n\big(p(y_i)\big),
        \qquad y_i \sim \pi_n.

    When ``D̂_n(p(y))`` under best-of-n is very skewed (a rare outcome with a large value),
    the interval covers less than ``level``: for Zipf(2) over 30 outcomes with the
    likeliest one best, n = 10 and 2000 draws, about 11% of intervals cover the exact
    :func:`expected_kl_estimator`. Use that exact value where it matters.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__, "The proposed estimator".

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl import bestofn
    >>> p, r = [0.4, 0.3, 0.2, 0.1], [0, 1, 2, 3]
    >>> mean, low, high = bestofn.estimator_monte_carlo(p, r, 4, 2000, np.random.default_rng(0))
    >>> print(f"{mean:.3f} [{low:.3f}, {high:.3f}]")
    0.622 [0.621, 0.623]
    >>> round(bestofn.expected_kl_estimator(p, r, 4), 3)  # the exact mean
    0.622
    """
    p, r = as_reference(p, r)
    values = kl_estimator(p[sample(p, r, n, draws, rng)], n)
    mean = float(values.mean())
    half = float(special.ndtri(0.5 + level / 2) * values.std(ddof=1) / np.sqrt(draws))
    return mean, mean - half, mean + half
