"""Sampled KL-regularised policy gradient with and without MARA (paper C, "1 or 2" analogue).

A scaled-down NumPy stand-in for the paper's LLM runs: a tabular autoregressive policy
(:mod:`bonkl.rl.autoregressive`) starts at its pretrained reference and takes ``steps``
Adam steps (:class:`bonkl.rl.adam.Adam`), each on a batch of ``batch`` answers it samples.
Per-sample estimators (``y_i ~ π_θ``, rewards ``R_i``, MARA's ``R̄_i`` in place of ``R_i``):

- reverse KL, ``J = E_π R − β KL(π ‖ π_ref)``: score ``s_i = R_i − β (log π_θ(y_i) −
  log π_ref(y_i))``, the "k1" estimator of the KL folded into the reward without its
  gradient (as in RLHF's KL-penalised reward). ``∇J = E_π[s ∇ log π]`` since
  ``E_π ∇ log π = 0``, so it is unbiased.
- forward KL, ``J = E_π R − β KL(π_ref ‖ π)``: ``∇(−β KL(π_ref ‖ π)) = β Σ π_ref ∇ log π =
  β E_π[(π_ref/π_θ) ∇ log π]``, so the score is ``s_i = R_i + β π_ref(y_i)/π_θ(y_i)`` (an
  importance-weighted, unbiased estimator on the policy's own samples).

The update direction is RLOO's (Kool et al. 2019; Ahmadian et al. 2024):
``(1/B) Σ_i (s_i − mean_{j≠i} s_j) ∇ log π_θ(y_i)``. MARA is Algorithm 1
(:func:`bonkl.mara.augment`) on each batch, with ``τ`` the task's or the batch rewards'
``q``-th percentile. Its exact target (:func:`log_exact_target`) anchors at the best-
supported valid outcome of the whole space with the task's ``τ``; a batch anchors at its
best-supported valid sample, which is the same outcome whenever the batch contains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bonkl import mara
from bonkl.rl.adam import Adam
from bonkl.rl.metrics import evaluate
from bonkl.rl.tasks import Task

REGULARIZERS = ("reverse", "forward")
METHODS = ("vanilla", "mara")


@dataclass(frozen=True)
class Training:
    """The step and batch budget of a run, and how MARA picks ``τ``."""

    steps: int
    batch: int
    learning_rate: float
    eval_every: int
    coverage_share: float
    tau_percentile: float | None = None  # None: the task's τ

    def __post_init__(self):
        if self.batch < 2:
            raise ValueError(f"batch must be >= 2 for RLOO, got {self.batch!r}")
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError("steps and eval_every must be >= 1")
        if self.tau_percentile is not None and not 0 <= self.tau_percentile <= 100:
            raise ValueError(f"tau_percentile must be in [0, 100], got {self.tau_percentile!r}")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} not in {allowed}")
    return value


def scores(rewards, log_pi, log_ref, beta: float, regularizer: str) -> np.ndarray:
    """Per-sample scores ``s_i`` of the regularised objective (module doc)."""
    if _choice(regularizer, REGULARIZERS, "regularizer") == "reverse":
        return rewards - beta * (log_pi - log_ref)
    return rewards + beta * np.exp(log_ref - log_pi)


def rloo_advantages(scores_: np.ndarray) -> np.ndarray:
    """``s_i − mean_{j≠i} s_j = B/(B − 1)·(s_i − mean s)``."""
    size = scores_.size
    return size / (size - 1) * (scores_ - scores_.mean())


def batch_tau(task: Task, rewards: np.ndarray, training: Training) -> float:
    """MARA's ``τ`` for a batch: the task's, or the ``q``-th percentile of the batch rewards."""
    if training.tau_percentile is None:
        return task.tau
    return float(np.quantile(rewards, training.tau_percentile / 100, method="higher"))


def log_exact_target(task: Task, log_ref: np.ndarray, regularizer: str, method: str,
                     beta: float) -> np.ndarray:
    """Log of the exact optimum of the run's objective on the whole outcome space.

    Vanilla: the Gibbs target (reverse) or ``β π_ref/(Λ − R)`` (forward); MARA: the targets
    of Algorithm 1 (:mod:`bonkl.mara`) with the task's ``τ``.
    """
    algorithm = "vanilla" if _choice(method, METHODS, "method") == "vanilla" else "algorithm_1"
    p = np.exp(log_ref)
    p = p / p.sum()
    if _choice(regularizer, REGULARIZERS, "regularizer") == "reverse":
        return mara.log_reverse_target(p, task.rewards, beta, task.tau, algorithm)
    target, _ = mara.forward_target(p, task.rewards, beta, task.tau, algorithm)
    return np.log(target)


def train(task: Task, ref_logits: np.ndarray, regularizer: str, method: str, beta: float,
          training: Training, rng: np.random.Generator,
          log_target: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """``(curve, logits)``: exact metrics every ``eval_every`` steps and at the end, final θ.

    The curve has a ``step`` column and the :data:`bonkl.rl.metrics.METRICS`.
    ``log_target``: the run's :func:`log_exact_target`, computed here when not given.
    """
    _choice(method, METHODS, "method")
    space = task.space
    log_ref = space.log_probs(ref_logits)
    if log_target is None:
        log_target = log_exact_target(task, log_ref, regularizer, method, beta)
    theta = np.array(ref_logits, dtype=float)
    adam = Adam(theta.shape, training.learning_rate)
    rows = []
    for step in range(training.steps + 1):
        table = space.token_log_probs(theta)
        if step % training.eval_every == 0 or step == training.steps:
            rows.append({"step": step, **evaluate(task, space.path_log_probs(table), log_ref,
                                                  log_target, training.coverage_share)})
        if step == training.steps:
            break
        drawn = space.sample(table, training.batch, rng)
        rewards = task.rewards[drawn]
        if method == "mara":
            rewards = mara.augment(rewards, log_ref[drawn], beta,
                                   batch_tau(task, rewards, training))
        advantages = rloo_advantages(scores(rewards, space.path_log_probs(table, drawn),
                                            log_ref[drawn], beta, regularizer))
        ascent = space.score_gradient(table, drawn, advantages / training.batch)
        theta = theta - adam.update(-ascent)
    return pd.DataFrame(rows), theta


def final_distribution(task: Task, log_pi: np.ndarray, log_ref: np.ndarray,
                       log_target: np.ndarray) -> pd.DataFrame:
    """Policy, reference and target mass of each well-formed answer, then all malformed ones."""
    index = [task.space.index(a) for a in task.answers]
    malformed = task.malformed

    def masses(log_q):
        q = np.exp(log_q)
        return np.append(q[index], q[malformed].sum())

    return pd.DataFrame({
        "answer": [*task.answers, "malformed"],
        "reward": np.append(task.rewards[index], 0.0),
        "valid": np.append(task.good[index], False),
        "policy": masses(log_pi),
        "reference": masses(log_ref),
        "target": masses(log_target),
    })
