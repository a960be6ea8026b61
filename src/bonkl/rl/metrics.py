"""What a sampled-RL run is judged by (paper C's "1 or 2" analogue), from exact log-probs.

For a policy ``π`` on a task's outcomes (all exact, no sampling): the mean reward
``E_π R``; the validity ``π(V)`` of the valid answers ``V = {R >= τ}``; the entropy over
valid answers ``H(π | V)`` in nats and divided by ``log |V|`` (1 = uniform); each good
mode's share ``π(M | V)`` and the coverage, the fraction of modes holding at least
``coverage_share / (number of modes)``; ``KL(π ‖ π_ref)`` and ``KL(π ‖ T)`` to the exact
target ``T`` of the run's objective (:func:`bonkl.rl.trainer.log_exact_target`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from bonkl.divergence import kl_from_logs
from bonkl.rl.tasks import Task

METRICS = ("mean_reward", "validity", "valid_entropy", "valid_entropy_normalized",
           "top_mode_share", "coverage", "kl_reference", "kl_target")


def mode_shares(task: Task, log_pi: np.ndarray) -> np.ndarray:
    """``π(M | V)`` of each good mode ``M``."""
    log_valid = special.logsumexp(log_pi[task.good])
    return np.array([np.exp(special.logsumexp(log_pi[mode]) - log_valid) for mode in task.modes])


def evaluate(task: Task, log_pi: np.ndarray, log_ref: np.ndarray, log_target: np.ndarray,
             coverage_share: float) -> dict[str, float]:
    """The :data:`METRICS` of ``π = exp(log_pi)`` (module doc)."""
    pi = np.exp(log_pi)
    log_valid = log_pi[task.good] - special.logsumexp(log_pi[task.good])
    entropy = float(-np.sum(np.exp(log_valid) * log_valid))
    shares = mode_shares(task, log_pi)
    return {
        "mean_reward": float(pi @ task.rewards),
        "validity": float(pi[task.good].sum()),
        "valid_entropy": entropy,
        "valid_entropy_normalized": entropy / np.log(task.good.sum()),
        "top_mode_share": float(shares.max()),
        "coverage": float(np.mean(shares >= coverage_share / len(shares))),
        "kl_reference": float(kl_from_logs(log_pi, log_ref)),
        "kl_target": float(kl_from_logs(log_pi, log_target)),
    }
