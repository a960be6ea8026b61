"""Log-space helpers that keep full relative precision where the textbook forms lose it.

- ``log1mexp(a) = log(1 − e^a)`` for ``a <= 0`` (Mächler 2012, "Accurately computing
  log(1 − exp(−|a|))", the Rmpfr vignette): ``log(−expm1(a))`` for ``a > −log 2``, where
  ``1 − e^a`` is small and ``expm1`` keeps its digits, and ``log1p(−e^a)`` below, where
  ``e^a`` is small and ``log1p`` keeps them. Either form alone loses all digits at one end.
- ``log_mean_exp(p, x) = log(Σ p·e^x / Σ p)``, the log of a weighted mean:
  ``log1p(Σ p·expm1(x) / Σ p)`` when every ``|x| <= 1``, so that a result near 0 keeps its
  relative precision (the log-sum-exp form rounds ``Σ p e^x / Σ p`` near 1 first and keeps
  only an absolute one); otherwise the log-sum-exp form around the largest term
  ``w_k = log p_k + x_k``, ``w_k + log1p(Σ_{y≠k} e^{w_y − w_k})``, which cannot overflow and
  keeps the digits of a small result when one term dominates.
"""

from __future__ import annotations

import numpy as np

__all__ = ["log1mexp", "log_mean_exp"]

_LOG_HALF = -np.log(2.0)


def log1mexp(a):
    r"""``log(1 − e^a)`` for ``a <= 0`` (``-inf`` at 0), accurate at both ends (Mächler 2012).

    Parameters
    ----------
    a : float or array_like
        Arguments ``<= 0``.

    Returns
    -------
    float or ndarray
        ``log(1 − e^a)``: a float for a scalar ``a``, else an array.

    Raises
    ------
    ValueError
        If an ``a`` is positive.

    Notes
    -----
    .. math::

        \log(1 - e^a) = \begin{cases} \log(-\operatorname{expm1}(a)) & a > -\log 2, \\
        \operatorname{log1p}(-e^a) & a \le -\log 2. \end{cases}

    References
    ----------
    M. Mächler, "Accurately computing log(1 − exp(−|a|))", the Rmpfr package vignette (2012).

    Examples
    --------
    >>> from bonkl.logspace import log1mexp
    >>> log1mexp([-1e-20, -50.0])
    array([-4.60517019e+01, -1.92874985e-22])
    """
    a = np.asarray(a, dtype=float)
    if np.any(a > 0):
        raise ValueError(f"log1mexp needs a <= 0, got {a[a > 0].flat[0]!r}")
    near = a > _LOG_HALF
    with np.errstate(divide="ignore"):
        out = np.where(near, np.log(-np.expm1(np.where(near, a, _LOG_HALF))),
                       np.log1p(-np.exp(np.where(near, _LOG_HALF, a))))
    return float(out) if out.ndim == 0 else out


def log_mean_exp(p, x) -> float:
    r"""``log(Σ_y p(y)·e^{x(y)} / Σ_y p(y))`` over the support of the weights ``p >= 0``.

    Parameters
    ----------
    p : array_like
        Non-negative weights.
    x : array_like
        Exponents, finite where ``p > 0``.

    Returns
    -------
    float
        The log of the weighted mean of ``e^x``.

    Notes
    -----
    .. math::

        \log \frac{\sum_y p(y)\, e^{x(y)}}{\sum_y p(y)} =
        \operatorname{log1p}\Big(\frac{\sum_y p(y) \operatorname{expm1}(x(y))}{\sum_y p(y)}\Big)
        \quad \text{when every } |x| \le 1,

    else the log-sum-exp form around the largest term (module doc).

    Examples
    --------
    >>> from bonkl.logspace import log_mean_exp
    >>> f"{log_mean_exp([0.5, 0.5], [2e-30, 0.0]):.6e}"  # log(1 + 1e-30), not 0
    '1.000000e-30'
    """
    p = np.asarray(p, dtype=float)
    x = np.asarray(x, dtype=float)
    support = p > 0
    p, x = p[support], x[support]
    total = np.sum(p)
    if np.all(np.abs(x) <= 1.0):
        return float(np.log1p(np.sum(p * np.expm1(x)) / total))
    w = np.log(p) + x
    k = np.argmax(w)
    return float(w[k] + np.log1p(np.sum(np.exp(np.delete(w, k) - w[k]))) - np.log(total))
