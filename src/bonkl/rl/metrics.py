"""What a sampled-RL run is judged by (paper C's "1 or 2" analogue), from exact log-probs.

For a policy ``π`` on a task's outcomes (all exact, no sampling): the mean reward
``E_π R``; the validity ``π(V)`` of the valid answers ``V = {R >= τ}``; the entropy over
valid answers ``H(π | V)`` in nats and divided by ``log |V|`` (1 = uniform; paper C's
"valid-answer entropy", Fig. 6); each good mode's share ``π(M | V)``, the top mode (its
index in ``task.modes``) and its share, the share of the reference's favourite mode and of
the target's top mode (signed views of collapse: a run collapsed onto another mode has
them near 0), and the coverage, the fraction of modes holding at
least ``coverage_share / (number of modes)``; ``KL(π ‖ π_ref)`` and ``KL(π ‖ T)`` to the
exact target ``T`` of the run's objective (:func:`bonkl.rl.trainer.log_exact_target`).

Every function takes one policy ``(O,)`` or a stack ``(R, O)`` (one row per run) and works
along the last axis; plain NumPy, so a training job does not import scipy for it.
"""

from __future__ import annotations

import numpy as np

from bonkl.divergence import kl_from_logs
from bonkl.rl.tasks import Task

#: The metrics of a run at each checkpoint, in table order.
METRICS = ("mean_reward", "validity", "valid_entropy", "valid_entropy_normalized",
           "top_mode", "top_mode_share", "favourite_share", "target_top_share", "coverage",
           "kl_reference", "kl_target")


def log_sum_exp(x: np.ndarray) -> np.ndarray:
    """``log Σ e^x`` along the last axis (max-shifted)."""
    top = np.max(x, axis=-1, keepdims=True)
    return np.log(np.sum(np.exp(x - top), axis=-1)) + top[..., 0]


def mode_shares(task: Task, log_pi: np.ndarray) -> np.ndarray:
    """``π(M | V)`` of each good mode ``M`` (last axis: the modes)."""
    log_valid = log_sum_exp(log_pi[..., task.good])
    return np.stack([np.exp(log_sum_exp(log_pi[..., mode]) - log_valid) for mode in task.modes],
                    axis=-1)


def evaluate(task: Task, log_pi: np.ndarray, log_ref: np.ndarray, log_target: np.ndarray,
             coverage_share: float) -> dict[str, np.ndarray]:
    """The :data:`METRICS` of ``π = exp(log_pi)`` (module doc), one value per row."""
    pi = np.exp(log_pi)
    log_valid = log_pi[..., task.good] - log_sum_exp(log_pi[..., task.good])[..., None]
    entropy = -np.sum(np.exp(log_valid) * log_valid, axis=-1)
    shares = mode_shares(task, log_pi)
    favourite = np.argmax(mode_shares(task, log_ref), axis=-1)
    target_top = np.argmax(mode_shares(task, log_target), axis=-1)
    return {
        "mean_reward": pi @ task.rewards,
        "validity": pi[..., task.good].sum(axis=-1),
        "valid_entropy": entropy,
        "valid_entropy_normalized": entropy / np.log(task.good.sum()),
        "top_mode": np.argmax(shares, axis=-1),
        "top_mode_share": shares.max(axis=-1),
        "favourite_share": np.take_along_axis(
            shares, np.broadcast_to(favourite, shares.shape[:-1])[..., None], -1)[..., 0][()],
        "target_top_share": np.take_along_axis(
            shares, np.broadcast_to(target_top, shares.shape[:-1])[..., None], -1)[..., 0][()],
        "coverage": np.mean(shares >= coverage_share / shares.shape[-1], axis=-1),
        "kl_reference": kl_from_logs(log_pi, log_ref),
        "kl_target": kl_from_logs(log_pi, log_target),
    }
