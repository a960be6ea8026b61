"""The study's reference distributions: named families, user files, and random draws.

A reference is a table with columns ``outcome, prob, reward`` (plus ``count`` for user
files). Families (config key ``family``):

- ``uniform(size)``: ``p = 1/size``.
- ``zipf(size, exponent)``: ``p_k ∝ (k+1)^-exponent``.
- ``geometric(size, ratio)``: ``p_k ∝ ratio^k``.
- ``dirichlet(size, concentration[, seed])``: ``p ~ Dir(concentration·1)``, drawn in logs
  (``log G = log Gamma(α+1) + log(U)/α``) so tiny masses are exact down to the floor below.
- ``spike(bulk, masses[, outcomes])``: a uniform bulk of ``bulk`` outcomes with rewards
  ``0..bulk-1``, then one top group per entry of ``masses`` (increasing reward), each of
  ``outcomes[i]`` tied outcomes sharing ``masses[i]`` equally: the paper's
  "cherry-picked" staircases and plateaus.
- ``binary([top_mass])``: two outcomes with rewards 0 and 1, ``p(1) = top_mass`` (default 1/2).
- ``file(path[, normalize])``: a user's samples, see :mod:`bonkl.plumbing.userfile`.

For the first four, outcome ``k`` gets reward ``k`` (``reward: increasing``, the default:
the likeliest outcomes of Zipf and geometric are the worst), ``size-1-k``
(``decreasing``) or a seeded random rank (``random``); ``ties: L`` then pools the
ranks into ``L`` equal reward levels.

A mass below 1e-300 (:data:`bonkl.plumbing.userfile.SMALLEST_MASS`, the smallest the study's
numerics are checked at) is set to 0: that outcome leaves the support, as one would whose
mass underflows (zipf and geometric over many outcomes, dirichlet with a small
concentration). Spike and binary masses are given in the config, where 1e-300 is their
lower bound.

References
----------
A. Beirami, A. Agarwal, J. Berant, A. D'Amour, J. Eisenstein, C. Nagpal, A. T. Suresh,
"Theoretical guarantees on the best-of-n alignment policy",
`arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__ (paper A).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from bonkl.plumbing.seeding import generator
from bonkl.plumbing.userfile import SMALLEST_MASS, load_user_file

__all__ = ["FAMILIES", "RANKED_FAMILIES", "build_reference", "log_dirichlet", "random_reference"]

RANKED_FAMILIES = ("uniform", "zipf", "geometric", "dirichlet")
FAMILIES = (*RANKED_FAMILIES, "spike", "binary", "file")


def log_dirichlet(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r"""Log of a ``Dirichlet(alpha)`` draw, finite even for tiny ``alpha`` (no underflow).

    Parameters
    ----------
    alpha : ndarray
        Concentrations ``> 0``.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    ndarray
        ``log`` of the draw, summing (after ``exp``) to 1.

    Notes
    -----
    With ``G_i ~ Gamma(α_i + 1)`` and ``U_i`` uniform, ``G_i U_i^{1/α_i} ~ Gamma(α_i)``:

    .. math::

        \log G_i = \log \mathrm{Gamma}(\alpha_i + 1) + \frac{\log U_i}{\alpha_i},

        \log x_i = \log G_i - \operatorname{logsumexp}_j \log G_j.

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl.references import log_dirichlet
    >>> x = log_dirichlet(np.full(3, 1e-3), np.random.default_rng(0))
    >>> bool(np.isfinite(x).all()), round(float(np.exp(x).sum()), 12)
    (True, 1.0)
    """
    log_gamma = np.log(rng.standard_gamma(alpha + 1.0)) + np.log(rng.random(alpha.size)) / alpha
    return log_gamma - logsumexp(log_gamma)


def _ranked_log_probs(spec: Mapping, rng: np.random.Generator) -> np.ndarray:
    size = int(spec["size"])
    k = np.arange(size, dtype=float)
    family = spec["family"]
    if family == "uniform":
        logp = np.zeros(size)
    elif family == "zipf":
        logp = -float(spec["exponent"]) * np.log1p(k)
    elif family == "geometric":
        logp = k * np.log(float(spec["ratio"]))
    else:
        return log_dirichlet(np.full(size, float(spec["concentration"])), rng)
    return logp - logsumexp(logp)


def _ranked_rewards(spec: Mapping, rng: np.random.Generator) -> np.ndarray:
    size = int(spec["size"])
    order = spec.get("reward", "increasing")
    rank = {
        "increasing": lambda: np.arange(size),
        "decreasing": lambda: np.arange(size)[::-1].copy(),
        "random": lambda: rng.permutation(size),
    }[order]()
    levels = spec.get("ties")
    if levels is not None:
        rank = (rank * int(levels)) // size
    return rank.astype(float)


def _spike(spec: Mapping) -> tuple[np.ndarray, np.ndarray]:
    bulk = int(spec["bulk"])
    masses = [float(m) for m in spec["masses"]]
    tied = [int(t) for t in spec.get("outcomes", [1] * len(masses))]
    if len(tied) != len(masses):
        raise ValueError(f"spike: 'outcomes' has {len(tied)} entries, 'masses' has {len(masses)}")
    rest = 1.0 - sum(masses)
    if rest <= 0:
        raise ValueError(f"spike: 'masses' sum to {sum(masses)!r}; expected less than 1")
    spikes = list(zip(masses, tied, strict=True))
    prob = [np.full(bulk, rest / bulk)] + [np.full(t, m / t) for m, t in spikes]
    reward = [np.arange(bulk, dtype=float)] + [
        np.full(t, float(bulk + i)) for i, t in enumerate(tied)
    ]
    return np.concatenate(prob), np.concatenate(reward)


def build_reference(spec: Mapping, seed: int) -> pd.DataFrame:
    r"""The reference table of one config entry ``spec`` (with ``name`` and ``family``).

    Parameters
    ----------
    spec : Mapping
        One entry of the config's ``references`` list: ``name``, ``family`` and the family's
        keys (module doc).
    seed : int
        The study seed; random families use ``spec['seed']`` when given, else a stream
        derived from it and the reference's name.

    Returns
    -------
    pandas.DataFrame
        Columns ``outcome, prob, reward`` (plus ``count`` for user files).

    Raises
    ------
    ValueError
        If the family is unknown or its keys are inconsistent.

    Notes
    -----
    For example ``zipf(size, exponent)``:

    .. math::

        p_k \propto (k + 1)^{-s}, \qquad k = 0, \dots, \mathrm{size} - 1.

    References
    ----------
    A. Beirami et al., "Theoretical guarantees on the best-of-n alignment policy",
    `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__,
    "Figures in the paper and what we regenerate".

    Examples
    --------
    >>> from bonkl.references import build_reference
    >>> build_reference({"name": "coin", "family": "binary", "top_mass": 0.25}, seed=0)
      outcome  prob  reward
    0       0  0.75     0.0
    1       1  0.25     1.0
    """
    family = spec["family"]
    rng = generator(spec.get("seed", seed), "reference", spec["name"])
    if family in RANKED_FAMILIES:
        prob = np.exp(_ranked_log_probs(spec, rng))
        reward = _ranked_rewards(spec, rng)
    elif family == "spike":
        prob, reward = _spike(spec)
    elif family == "binary":
        top = float(spec.get("top_mass", 0.5))
        prob, reward = np.array([1.0 - top, top]), np.array([0.0, 1.0])
    elif family == "file":
        return load_user_file(spec["path"], bool(spec.get("normalize", False)))
    else:
        raise ValueError(f"unknown reference family {family!r}; expected one of {FAMILIES}")
    prob = np.where(prob < SMALLEST_MASS, 0.0, prob)
    outcome = np.arange(prob.size).astype(str)
    return pd.DataFrame({"outcome": outcome, "prob": prob, "reward": reward})


def random_reference(rng: np.random.Generator, max_size: int) -> tuple[np.ndarray, np.ndarray]:
    r"""A random ``(p, r)`` for property checks: ties, tiny masses, tiny top groups.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    max_size : int
        Largest number of outcomes, at least 2.

    Returns
    -------
    p : ndarray
        Probabilities summing to 1.
    r : ndarray
        Rewards.

    Notes
    -----
    Size uniform in ``2..max_size``; ``p ~ Dir(α)`` with ``α`` log-uniform in
    [0.01, 10]; with probability 1/2 up to three outcomes (sometimes the best one) get
    masses ``10^-U(5, 300)``; rewards are all distinct with probability 1/3, else integer
    levels drawn with replacement (from all tied to mostly distinct):

    .. math::

        p \sim \mathrm{Dir}(\alpha \mathbf{1}), \qquad \log_{10} \alpha \sim \mathcal{U}[-2, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from bonkl.references import random_reference
    >>> p, r = random_reference(np.random.default_rng(1), 6)
    >>> p.shape == r.shape, round(float(p.sum()), 12)
    (True, 1.0)
    """
    size = int(rng.integers(2, max_size + 1))
    logp = log_dirichlet(np.full(size, 10.0 ** rng.uniform(-2, 1)), rng)
    if rng.random() < 1 / 3:
        reward = rng.permutation(size).astype(float)
    else:
        reward = rng.integers(0, int(rng.integers(1, size + 1)), size).astype(float)
    if rng.random() < 0.5:
        tiny = rng.choice(size, int(rng.integers(1, min(3, size) + 1)), replace=False)
        if rng.random() < 0.5:
            reward[tiny[0]] = reward.max() + 1.0
        logp[tiny] = -rng.uniform(5, 300, tiny.size) * np.log(10.0)
    return np.exp(logp - logsumexp(logp)), reward
