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
    """The non-negative terms ``q ℓ − q + p`` of ``KL(q ‖ p)``, elementwise (broadcasting).

    ``log_p = -inf`` needs ``log_q = -inf`` (a zero term); ``log_q = -inf`` gives ``p``.
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
    """The terms ``p·(e^ℓ ℓ − e^ℓ + 1)`` of ``KL(q ‖ p)`` from ``ℓ = log q/p`` and ``p``.

    For a caller that has ``ℓ`` more accurately than as a difference of two logs (a tilt:
    ``ℓ = λ r − Λ(λ)``, whose two logs would each carry a rounding error of
    ``ε·|log p|``). ``ℓ = -inf`` (``q = 0``) gives ``p``; ``p = 0`` gives 0.
    """
    ell, p = np.broadcast_arrays(np.asarray(log_ratio, float), np.asarray(p, float))
    ratio = np.exp(ell)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(p > 0, p * np.where(ratio > 0, ratio * ell - ratio + 1.0, 1.0), 0.0)
    near = np.abs(ell) < _SERIES_RADIUS
    terms[near] = p[near] * _series(ell[near])
    return terms


def kl_from_logs(log_q, log_p, axis: int = -1):
    """``KL(q ‖ p)`` in nats from log-probabilities, summed over ``axis``."""
    return kl_terms(log_q, log_p).sum(axis=axis)
