"""KL divergence between distributions given in logs, as a sum of non-negative terms.

``KL(q ‖ p) = Σ_y p(y)·(e^ℓ ℓ − e^ℓ + 1)`` with ``ℓ = log q(y)/p(y)``: each term is
``>= 0`` and the extra ``−q + p`` sums to zero because both distributions sum to 1, so the
total has no cancellation. Near ``ℓ = 0`` the Taylor series
``p·Σ_{k>=2} (k−1) ℓ^k / k!`` replaces the direct form.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["kl_from_logs", "kl_terms", "log_ratio_terms"]

_SERIES_RADIUS = 0.1  # |ℓ| below which a term uses its Taylor series
_SERIES = [(k - 1) / special.factorial(k) for k in range(14, 1, -1)]  # (k-1)/k!, k = 14..2


def _series(x: np.ndarray) -> np.ndarray:
    """``e^x x − e^x + 1 = Σ_{k>=2} (k−1) x^k / k!`` for ``|x| < 0.1`` (Horner)."""
    out = np.zeros_like(x)
    for coefficient in _SERIES:
        out = (out + coefficient) * x
    return out * x


def kl_terms(log_q: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    r"""The non-negative terms ``q ℓ − q + p`` of ``KL(q ‖ p)``, elementwise (broadcasting).

    Parameters
    ----------
    log_q, log_p : array_like
        Log-probabilities of the two distributions, broadcast together.

    Returns
    -------
    ndarray
        The terms, each ``>= 0``.

    Raises
    ------
    ValueError
        If ``q`` puts mass where ``p`` has none (the KL is infinite).

    Notes
    -----
    .. math::

        \mathrm{KL}(q \,\|\, p) = \sum_y \big(q\,\ell - q + p\big), \qquad \ell = \log \frac{q}{p},

    with the Taylor series ``p·Σ_{k>=2} (k−1) ℓ^k / k!`` where ``|ℓ| < 0.1``.
    ``log_p = -inf`` needs ``log_q = -inf`` (a zero term); ``log_q = -inf`` gives ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl.divergence import kl_terms
    >>> kl_terms(np.log([0.25, 0.75]), np.log([0.5, 0.5])).round(6)
    array([0.076713, 0.054099])
    """
    log_q, log_p = np.broadcast_arrays(np.asarray(log_q, float), np.asarray(log_p, float))
    q, p = np.exp(log_q), np.exp(log_p)
    if np.any((q > 0) & (log_p == -np.inf)):
        raise ValueError("KL(q ‖ p) is infinite: q puts mass where p has none")
    with np.errstate(invalid="ignore"):
        ell = log_q - log_p
        terms = np.where(q > 0, q * ell, 0.0) - q + p
    near = np.abs(ell) < _SERIES_RADIUS
    terms[near] = p[near] * _series(ell[near])
    return terms


def log_ratio_terms(log_ratio: np.ndarray, p: np.ndarray) -> np.ndarray:
    r"""The terms ``p·(e^ℓ ℓ − e^ℓ + 1)`` of ``KL(q ‖ p)`` from ``ℓ = log q/p`` and ``p``.

    Parameters
    ----------
    log_ratio : array_like
        ``ℓ = log q/p``.
    p : array_like
        The reference probabilities, broadcast with ``log_ratio``.

    Returns
    -------
    ndarray
        The terms, each ``>= 0``.

    Notes
    -----
    For a caller that has ``ℓ`` more accurately than as a difference of two logs (a tilt:
    ``ℓ = λ r − Λ(λ)``, whose two logs would each carry a rounding error of ``ε·|log p|``).
    ``ℓ = -inf`` (``q = 0``) gives ``p``; ``p = 0`` gives 0.

    .. math::

        \mathrm{KL}(q \,\|\, p) = \sum_y p(y)\,\big(e^{\ell} \ell - e^{\ell} + 1\big).

    Examples
    --------
    >>> from bonkl.divergence import log_ratio_terms
    >>> f"{log_ratio_terms([1e-9], [1.0])[0]:.6e}"  # ℓ²/2
    '5.000000e-19'
    """
    ell, p = np.broadcast_arrays(np.asarray(log_ratio, float), np.asarray(p, float))
    ratio = np.exp(ell)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(p > 0, p * np.where(ratio > 0, ratio * ell - ratio + 1.0, 1.0), 0.0)
    near = np.abs(ell) < _SERIES_RADIUS
    terms[near] = p[near] * _series(ell[near])
    return terms


def kl_from_logs(log_q, log_p, axis: int = -1):
    r"""``KL(q ‖ p)`` in nats from log-probabilities, summed over ``axis``.

    Parameters
    ----------
    log_q, log_p : array_like
        Log-probabilities, broadcast together.
    axis : int
        The axis summed over.

    Returns
    -------
    float or ndarray
        The KL in nats.

    Notes
    -----
    .. math::

        \mathrm{KL}(q \,\|\, p) = \sum_y q(y) \log \frac{q(y)}{p(y)},

    as the sum of :func:`kl_terms`: non-negative terms, no cancellation.

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl.divergence import kl_from_logs
    >>> round(float(kl_from_logs(np.log([0.25, 0.75]), np.log([0.5, 0.5]))), 6)
    0.130812
    """
    return kl_terms(log_q, log_p).sum(axis=axis)
