"""Why KL-regularised targets collapse: probability ratios and the mode-switch β (paper C, §4).

For two outcomes ``y1, y2`` with reference masses ``p1, p2`` and rewards ``r1, r2``:

- Prop. 4.1 (reverse KL, Gibbs target ``G_β ∝ p e^{r/β}``):
  ``log G_β(y1)/G_β(y2) = log p1/p2 + (r1 − r2)/β``.
- Remark 4.2: with ``p1 = p2`` the ratio is ``e^{(r1 − r2)/β}``.
- Remark 4.3: with ``r1 = r2`` the ratio is ``p1/p2`` at every β (and, derived, for the
  forward-KL target and for best-of-n).
- Remark 4.4: ``G_β(y1) = G_β(y2)`` exactly when ``r2 − r1 = β (log p1 − log p2)``, i.e. at
  ``β* = (r2 − r1)/log(p1/p2)``.
- Forward KL (derived, digest "Why the targets collapse"): ``G_fwd = β p/(Λ − r)`` gives
  ``log G_fwd(y1)/G_fwd(y2) = log p1/p2 + log (Λ − r2)/(Λ − r1)``; the two are equally likely
  when ``Λ = Λ* = (p1 r2 − p2 r1)/(p1 − p2)``, and since ``Σ_y β p(y)/(Λ − r(y)) = 1`` the
  crossover is ``β*_fwd = 1 / Σ_y p(y)/(Λ* − r(y))`` (our derivation; needs ``Λ* > max r``).

``log(p1/p2)`` is taken as ``log1p((p1 − p2)/p2)`` when the two masses are within a factor 2
(``p1 − p2`` is then exact), so a crossover β near two almost equal masses keeps its digits.

References
----------
A. GX-Chen, J. Prakash, J. Guo, R. Fergus, R. Ranganath, "KL-Regularized Reinforcement
Learning is Designed to Mode Collapse", `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__
(paper C).
"""

from __future__ import annotations

import numpy as np

from bonkl.groups import as_reference

__all__ = [
    "bisect_crossover", "equal_support_ratio", "forward_crossover", "forward_log_ratio",
    "log_odds", "reverse_crossover_beta", "reverse_log_ratio",
]


def log_odds(p1, p2):
    r"""``log(p1/p2)`` for masses ``> 0``, elementwise, accurate when ``p1 ≈ p2`` (module doc).

    Parameters
    ----------
    p1, p2 : float or array_like
        Masses ``> 0``, broadcast together.

    Returns
    -------
    ndarray
        ``log(p1/p2)``.

    Notes
    -----
    .. math::

        \log \frac{p_1}{p_2} = \operatorname{log1p}\Big(\frac{p_1 - p_2}{p_2}\Big)
        \quad \text{when } \tfrac{1}{2} \le p_1/p_2 \le 2 \text{ (then } p_1 - p_2
        \text{ is exact)}.

    Examples
    --------
    >>> from bonkl import collapse
    >>> f"{float(collapse.log_odds(1.0 + 2**-50, 1.0)):.15e}"  # = log1p(2^-50) to every digit
    '8.881784197001248e-16'
    """
    p1, p2 = np.broadcast_arrays(np.asarray(p1, float), np.asarray(p2, float))
    close = (p1 <= 2.0 * p2) & (p2 <= 2.0 * p1)
    with np.errstate(divide="ignore"):
        return np.where(close, np.log1p((p1 - p2) / p2), np.log(p1) - np.log(p2))


def reverse_log_ratio(p1, p2, r1, r2, beta):
    r"""Prop. 4.1: ``log G_β(y1)/G_β(y2) = log(p1/p2) + (r1 − r2)/β``, elementwise.

    Parameters
    ----------
    p1, p2 : float or array_like
        Reference masses of ``y1`` and ``y2``, ``> 0``.
    r1, r2 : float or array_like
        Their rewards.
    beta : float or array_like
        The coefficient ``β > 0``.

    Returns
    -------
    ndarray
        The log ratio of the Gibbs target's masses.

    Notes
    -----
    .. math::

        \log \frac{G_\beta(y_1)}{G_\beta(y_2)} = \log \frac{p_1}{p_2} + \frac{r_1 - r_2}{\beta}.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §4, Proposition 4.1.

    Examples
    --------
    >>> from bonkl import collapse
    >>> round(float(collapse.reverse_log_ratio(0.5, 0.5, 1.0, 0.9, 1e-3)), 9)  # Remark 4.2
    100.0
    """
    return log_odds(p1, p2) + (np.asarray(r1, float) - r2) / beta


def forward_log_ratio(p1, p2, r1, r2, lam):
    r"""``log G_fwd(y1)/G_fwd(y2) = log(p1/p2) + log((Λ − r2)/(Λ − r1))`` (derived).

    Parameters
    ----------
    p1, p2 : float or array_like
        Reference masses of ``y1`` and ``y2``, ``> 0``.
    r1, r2 : float or array_like
        Their rewards.
    lam : float or array_like
        The forward target's multiplier ``Λ > max r``.

    Returns
    -------
    ndarray
        The log ratio of the forward-KL target's masses.

    Notes
    -----
    .. math::

        \log \frac{G_{\mathrm{fwd}}(y_1)}{G_{\mathrm{fwd}}(y_2)}
        = \log \frac{p_1}{p_2} + \log \frac{\Lambda - r_2}{\Lambda - r_1}:

    reward gaps are amplified polynomially, not exponentially.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §4 (this forward-KL form is derived).

    Examples
    --------
    >>> from bonkl import collapse
    >>> round(float(collapse.forward_log_ratio(0.5, 0.5, 1.0, 0.0, 2.0)), 6)  # log 2
    0.693147
    """
    r1, r2 = np.asarray(r1, float), np.asarray(r2, float)
    return log_odds(p1, p2) + np.log((lam - r2) / (lam - r1))


def equal_support_ratio(reward_gap, beta):
    r"""Remark 4.2: ``G_β(y1)/G_β(y2) = e^{(r1 − r2)/β}`` when ``p1 = p2``.

    Parameters
    ----------
    reward_gap : float or array_like
        ``r1 − r2``.
    beta : float or array_like
        The coefficient ``β > 0``.

    Returns
    -------
    ndarray
        The ratio.

    Notes
    -----
    .. math::

        \frac{G_\beta(y_1)}{G_\beta(y_2)} = e^{(r_1 - r_2)/\beta}.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__,
    §4, Remark 4.2 (the paper prints 2.6 × 10⁴³ for a gap of 0.1 at β = 10⁻³).

    Examples
    --------
    >>> from bonkl import collapse
    >>> f"{float(collapse.equal_support_ratio(0.1, 1e-3)):.4e}"
    '2.6881e+43'
    """
    return np.exp(np.asarray(reward_gap, float) / beta)


def reverse_crossover_beta(p1, p2, r1, r2) -> float:
    r"""Remark 4.4: the β at which ``G_β(y1) = G_β(y2)``, ``(r2 − r1)/log(p1/p2)``.

    Parameters
    ----------
    p1, p2 : float
        Reference masses, ``> 0``.
    r1, r2 : float
        Rewards.

    Returns
    -------
    float
        ``β*``.

    Raises
    ------
    ValueError
        Unless one outcome has the higher reward and the other the higher reference mass.

    Notes
    -----
    .. math::

        \beta^* = \frac{r_2 - r_1}{\log(p_1/p_2)};

    the better-supported outcome wins for β above it, the better-rewarded one below.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__, §4, Remark 4.4.

    Examples
    --------
    >>> import math
    >>> from bonkl import collapse
    >>> round(collapse.reverse_crossover_beta(math.exp(-4.05), math.exp(-5.95), 0.75, 1.0), 6)
    0.131579
    """
    p1, p2, r1, r2 = float(p1), float(p2), float(r1), float(r2)
    if not (p1 > 0 and p2 > 0) or np.sign(r2 - r1) * np.sign(p1 - p2) <= 0:
        raise ValueError("a crossover needs one outcome with the higher reward and the other "
                         f"with the higher reference mass; got p=({p1}, {p2}), r=({r1}, {r2})")
    return float((r2 - r1) / log_odds(p1, p2))


def forward_crossover(p, r, i: int, j: int) -> tuple[float, float]:
    r"""``(β*_fwd, Λ*)``: the β at which the forward-KL target has ``G(y_i) = G(y_j)`` (derived).

    Parameters
    ----------
    p : array_like
        Reference probabilities, summing to 1.
    r : array_like
        Rewards, same shape.
    i, j : int
        The two outcomes.

    Returns
    -------
    beta : float
        ``β*_fwd``.
    lam : float
        ``Λ*``.

    Raises
    ------
    ValueError
        When no crossover exists (the conditions of :func:`reverse_crossover_beta`, and
        ``Λ* > max r`` on the support, which holds when ``y_i, y_j`` include a top outcome).

    Notes
    -----
    .. math::

        \Lambda^* = \frac{p_i r_j - p_j r_i}{p_i - p_j}, \qquad
        \beta^*_{\mathrm{fwd}} = \Big(\sum_y \frac{p(y)}{\Lambda^* - r(y)}\Big)^{-1},

    computed as ``Λ* − r(y) = (r_k − r(y)) + p_k·D`` with ``D = (r_j − r_i)/(p_i − p_j) > 0``
    and ``k`` the better rewarded of the two: non-negative terms, no cancellation.

    References
    ----------
    A. GX-Chen et al., "KL-Regularized Reinforcement Learning is Designed to Mode Collapse",
    `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__,
    §4 (the forward-KL crossover is our derivation).

    Examples
    --------
    >>> from bonkl import collapse
    >>> beta, lam = collapse.forward_crossover([0.6, 0.4], [0.0, 1.0], 0, 1)
    >>> round(beta, 6), round(lam, 6)
    (2.5, 3.0)
    """
    p, r = as_reference(p, r)
    reverse_crossover_beta(p[i], p[j], r[i], r[j])  # same existence conditions
    k = i if r[i] > r[j] else j
    shift = p[k] * (r[j] - r[i]) / (p[i] - p[j])  # Λ* − r_k
    support = p > 0
    gaps = (r[k] - r[support]) + shift
    if not np.all(gaps > 0):
        raise ValueError(f"no forward-KL crossover: Λ* = {r[k] + shift!r} is not above max r")
    return float(1.0 / np.sum(p[support] / gaps)), float(r[k] + shift)


def bisect_crossover(log_ratio_at, low: float, high: float, steps: int = 200) -> float:
    r"""The β in ``[low, high]`` where ``log_ratio_at(β)`` changes sign, by bisection on log β.

    Parameters
    ----------
    log_ratio_at : callable
        ``β -> log`` ratio of two targets' masses, computed any way (e.g. from the targets).
    low, high : float
        The bracket, ``0 < low < high``.
    steps : int
        Most bisection steps.

    Returns
    -------
    float
        The crossover β.

    Raises
    ------
    ValueError
        If the log ratio does not change sign on the bracket.

    Notes
    -----
    This checks a closed-form crossover without using it; it stops when the bracket is one
    floating-point step wide:

    .. math::

        \beta^* \in [\beta_{\mathrm{lo}}, \beta_{\mathrm{hi}}], \qquad
        \operatorname{sign} \ell(\beta_{\mathrm{lo}})
        \ne \operatorname{sign} \ell(\beta_{\mathrm{hi}}).

    Examples
    --------
    >>> from bonkl import collapse
    >>> ratio = lambda beta: float(collapse.reverse_log_ratio(0.8, 0.2, 0.0, 1.0, beta))
    >>> round(collapse.bisect_crossover(ratio, 0.01, 10.0), 6)  # 1/log 4
    0.721348
    """
    lo, hi = np.log(low), np.log(high)
    sign_lo = np.sign(log_ratio_at(low))
    if sign_lo == np.sign(log_ratio_at(high)) or sign_lo == 0:
        raise ValueError(f"log ratio does not change sign on [{low}, {high}]")
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if np.sign(log_ratio_at(np.exp(mid))) == sign_lo:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))
