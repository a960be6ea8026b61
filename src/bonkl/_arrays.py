"""The array convention of the public functions, shared so that it is written once.

A scalar argument gives a Python ``float`` (or, for a vector-valued result, one vector); an
array argument gives an array of its shape (plus the trailing axis of a vector-valued
result), as :func:`bonkl.bestofn.kl` does with ``n``. Functions whose result is a root of an
equation (a Brent search per element) map the scalar computation over the elements with
:func:`elementwise` (a float per element) or :func:`elementwise_policy` (a policy and a
float per element); the others broadcast directly and finish with :func:`float_or_array`.
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


def elementwise_policy(function: Callable[[float], tuple[np.ndarray, float]], x, size: int):
    """``function`` (scalar to ``(vector of length size, float)``, e.g. a policy and its
    parameter) at every element of ``x``: its own result for a scalar ``x``, else the arrays
    of shapes ``x.shape + (size,)`` and ``x.shape``."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return function(float(x))
    solved = [function(float(v)) for v in x.ravel()]
    vectors = np.array([vector for vector, _ in solved], dtype=float)
    scalars = np.array([scalar for _, scalar in solved], dtype=float)
    return vectors.reshape(x.shape + (size,)), scalars.reshape(x.shape)
