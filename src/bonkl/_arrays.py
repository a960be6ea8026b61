"""The array convention of the public functions, shared so that it is written once.

A scalar argument gives a Python ``float`` (or, for a vector-valued result, one vector); an
array argument gives an array of its shape (plus the trailing axis of a vector-valued
result), as :func:`bonkl.bestofn.kl` does with ``n``. Functions whose result is a root of an
equation (a Brent search per element) map the scalar computation over the elements with
:func:`elementwise`; the others broadcast directly and finish with :func:`float_or_array`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def float_or_array(values, like):
    """``float(values)`` when the argument ``like`` is a scalar, else ``values`` as an array."""
    values = np.asarray(values, dtype=float)
    return float(values) if np.ndim(like) == 0 else values


def elementwise(function: Callable[[float], float], x):
    """``function`` (scalar to float) at every element of ``x``: a float for a scalar ``x``,
    an array of ``x``'s shape otherwise."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return float(function(float(x)))
    return np.array([function(float(v)) for v in x.ravel()], dtype=float).reshape(x.shape)
