"""Rewind-and-repeat: resample from the reference until the reward reaches a threshold.

Paper A, "Rewind-and-repeat": with threshold ``τ`` the policy is ``p(· | r >= τ)``, its
``KL(p(· | r >= τ) ‖ p) = log 1/A`` with acceptance mass ``A = p(r >= τ)``, and it costs
``1/A`` reference draws on average. Its win rate against a fresh reference draw (ties
counting half) is ``Σ_{C: r_C >= τ} p(C)/A · (F_C + F⁻_C)/2``. ``A`` is summed from the
top reward down, so ``log 1/A`` keeps its precision for tiny acceptance masses.
"""

from __future__ import annotations

import numpy as np

from bonkl.groups import as_reference, reward_groups


def _accepted(p, r, tau):
    """Tie groups, the index of the lowest accepted group, and ``A`` summed from the top."""
    groups = reward_groups(p, r)
    rewards = r[groups.order[groups.starts[:-1]]]
    first = int(np.searchsorted(rewards, float(tau), side="left"))
    if first == rewards.size:
        raise ValueError(f"threshold tau={tau!r} is above every reward with p > 0 "
                         f"(top reward {rewards[-1]!r}): nothing is ever accepted")
    return groups, first, float(groups.above[first] + groups.mass[first])


def quantile_thresholds(p, r, count: int) -> np.ndarray:
    """Distinct thresholds at the reward quantiles of levels ``1 - t``, ``t`` log-spaced.

    The ``count`` tail levels ``t`` run log-evenly from 1 down to ``p(C*)``; each gives the
    highest reward ``τ`` with ``p(r >= τ) >= t`` (so ``t = 1`` gives the lowest reward, the
    reference itself, and ``t = p(C*)`` the top reward). Thresholds that coincide are kept
    once; the result is increasing.
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


def accept_mass(p, r, tau) -> float:
    """``A = p(r >= τ)``, summed from the top reward."""
    return _accepted(*as_reference(p, r), tau)[2]


def policy(p, r, tau) -> np.ndarray:
    """``p(y | r >= τ)``: the rewind-and-repeat policy."""
    p, r = as_reference(p, r)
    mass = _accepted(p, r, tau)[2]
    return np.where(r >= tau, p, 0.0) / mass


def kl(p, r, tau) -> float:
    """``KL(p(· | r >= τ) ‖ p) = log 1/p(r >= τ)`` in nats."""
    p, r = as_reference(p, r)
    groups, first, mass = _accepted(p, r, tau)
    if mass > 0.5:  # 1 - A is the mass below, accurate from the bottom
        return float(-np.log1p(-groups.below[first]))
    return float(-np.log(mass))


def expected_draws(p, r, tau) -> float:
    """``1/p(r >= τ)``: mean number of reference draws until one is accepted."""
    return 1.0 / accept_mass(p, r, tau)


def win_rate(p, r, tau) -> float:
    """``P(r(Y) > r(Z)) + P(r(Y) = r(Z))/2`` for ``Y ~ p(· | r >= τ)``, ``Z ~ p``.

    Summed as ``1 - Σ_{C accepted} p(C)/A · (1 - F_C + p(C)/2)`` (upper tails from the top).
    """
    p, r = as_reference(p, r)
    groups, first, mass = _accepted(p, r, tau)
    loss = groups.above[first:] + 0.5 * groups.mass[first:]
    return float(1.0 - groups.mass[first:] @ loss / mass)


def sample(p, r, tau, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` rewind-and-repeat draws.

    The draw that is finally accepted is distributed as ``p`` conditioned on ``r >= τ``,
    whatever the number of rejections before it, so it is drawn from that conditional
    directly (inverse CDF over the accepted outcomes): ``O(log |Y|)`` per draw instead of
    ``1/A`` reference draws. ``tests/test_rewind.py`` checks it against a literal loop.
    """
    p, r = as_reference(p, r)
    _accepted(p, r, tau)
    kept = np.flatnonzero((r >= tau) & (p > 0))
    cdf = np.cumsum(p[kept])
    pick = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return kept[np.minimum(pick, kept.size - 1)]
