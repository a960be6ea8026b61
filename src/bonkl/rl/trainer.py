"""Sampled KL-regularised policy gradient with and without MARA (paper C, "1 or 2" analogue).

A scaled-down NumPy stand-in for the paper's LLM runs: a tabular autoregressive policy
(:mod:`bonkl.rl.autoregressive`) starts at its pretrained reference and takes ``steps``
Adam steps (:class:`bonkl.rl.adam.Adam`), each on a batch of ``batch`` answers it samples.
Many runs train at once as one NumPy computation with a leading run axis; each run has its
own generator, hyper-parameters and logits, and nothing couples two runs, so a run's
numbers do not depend on which runs share its call (:func:`train`).

Per-sample scores (``y_i ~ π_θ``, rewards ``R_i``, log reference ``ℓ_i``):

- reverse KL, ``J = E_π R − β KL(π ‖ π_ref)``: ``s_i = R_i − β (log π_θ(y_i) − ℓ_i)``, the
  "k1" estimator of the KL folded into the reward without its gradient (as in RLHF's
  KL-penalised reward); unbiased since ``E_π ∇ log π = 0``.
- forward KL, ``J = E_π R − β KL(π_ref ‖ π)``: ``∇(−β KL(π_ref ‖ π)) = β E_π[(π_ref/π_θ)
  ∇ log π]``, so ``s_i = R_i + β e^{ℓ_i}/π_θ(y_i)`` (importance-weighted, unbiased).

Advantages (the dynamics choice ``advantage``): ``rloo``, RLOO's ``s_i − mean_{j≠i} s_j``
(Kool et al. 2019; Ahmadian et al. 2024); ``grpo``, a GRPO-style group-normalised
``(s_i − mean s)/(std s + 1e-8)`` (Shao et al. 2024 normalise the reward this way; here the
KL-regularised score is normalised, so the KL stays in the advantage as in RLOO). The update
ascends ``(1/B) Σ_i A_i ∇ log π_θ(y_i)`` with Adam at the run's ``learning_rate``.

MARA (paper C, ``method`` one of :data:`bonkl.mara.ALGORITHMS` other than ``vanilla``), per
batch with anchor ``z`` (best-supported sample with ``R >= τ``): ``algorithm_1`` replaces
good rewards by ``R(z) + β (ℓ_z − ℓ_i)``; ``algorithm_2`` sets good rewards to ``R(z)`` and
their ``ℓ_i`` to ``ℓ_z`` in the KL term; ``algorithm_1_lambda`` (forward KL) replaces good
rewards by ``Λ̂ − e^{ℓ_i − ℓ_z}(Λ̂ − R(z))``, ``Λ̂`` the batch estimate of Algorithm 2's
multiplier (:func:`bonkl.mara.augment_lambda`), and is Algorithm 1 under reverse KL. ``τ``
is the task's, or the ``q``-th percentile of the batch rewards. A run's exact target
(:func:`log_exact_target`) anchors at the best-supported valid outcome of the whole space
with the task's ``τ``; a batch anchors at its best-supported valid sample, the same
outcome whenever the batch contains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bonkl import mara
from bonkl.rl.adam import Adam
from bonkl.rl.metrics import METRICS, evaluate
from bonkl.rl.tasks import Task

REGULARIZERS = ("reverse", "forward")
ADVANTAGES = ("rloo", "grpo")
DRAW_BLOCK = 50  # steps of uniforms drawn per generator call (any value gives the same runs)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} not in {allowed}")
    return value


@dataclass(frozen=True)
class Training:
    """The step and batch budget shared by the runs of one call, and how MARA picks ``τ``."""

    steps: int
    batch: int
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

    @property
    def checkpoints(self) -> np.ndarray:
        """The steps with an exact evaluation, every ``eval_every`` and the last."""
        return np.unique(np.append(np.arange(0, self.steps, self.eval_every), self.steps))


@dataclass(frozen=True)
class Run:
    """One run's objective and dynamics (its generator is passed beside it)."""

    regularizer: str
    method: str  # "vanilla" or a MARA algorithm of bonkl.mara.ALGORITHMS
    beta: float
    advantage: str = "rloo"
    learning_rate: float = 0.05

    def __post_init__(self):
        _choice(self.regularizer, REGULARIZERS, "regularizer")
        _choice(self.method, mara.ALGORITHMS, "method")
        _choice(self.advantage, ADVANTAGES, "advantage")
        if not (self.beta > 0 and self.learning_rate > 0):
            raise ValueError(f"beta and learning_rate must be > 0, got {self!r}")


@dataclass(frozen=True)
class Trained:
    """Curves ``metrics[name][run, checkpoint]`` at ``steps``, and each run's final ``log π``."""

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    log_pi: np.ndarray


def scores(rewards, log_pi, log_ref, beta, reverse) -> np.ndarray:
    """Per-sample scores ``s_i`` (module doc); ``reverse`` selects the KL per run (broadcast)."""
    with np.errstate(over="ignore"):
        forward = rewards + beta * np.exp(log_ref - log_pi)
    return np.where(reverse, rewards - beta * (log_pi - log_ref), forward)


def advantages(scores_: np.ndarray, grpo) -> np.ndarray:
    """RLOO's ``B/(B − 1)·(s_i − mean s)`` or, where ``grpo``, ``(s_i − mean s)/(std s + 1e-8)``
    along the last axis (the batch)."""
    size = scores_.shape[-1]
    centred = scores_ - scores_.mean(axis=-1, keepdims=True)
    normalised = centred / (scores_.std(axis=-1, keepdims=True) + 1e-8)
    return np.where(grpo, normalised, size / (size - 1) * centred)


def batch_tau(task: Task, rewards: np.ndarray, training: Training) -> np.ndarray:
    """MARA's ``τ`` per batch (rows): the task's, or the ``q``-th percentile of the rewards."""
    if training.tau_percentile is None:
        return np.full(rewards.shape[:-1] + (1,), task.tau)
    return np.quantile(rewards, training.tau_percentile / 100, axis=-1, method="higher",
                       keepdims=True)


def mara_batch(methods: np.ndarray, rewards, log_ref, log_pi, beta, reverse, tau):
    """``(rewards, log_ref)`` after each row's MARA ``methods`` (module doc), row by row.

    Row-wise the same numbers as :func:`bonkl.mara.augment` (``algorithm_1``),
    :func:`bonkl.mara.anchor_reference` (``algorithm_2``) and
    :func:`bonkl.mara.augment_lambda` (``algorithm_1_lambda``, forward KL); a row with no
    good sample is unchanged.
    """
    good = rewards >= tau
    rows = np.arange(rewards.shape[0])
    z = np.argmax(np.where(good, log_ref, -np.inf), axis=-1)  # first of the best on ties
    reward_z, ref_z = rewards[rows, z][:, None], log_ref[rows, z][:, None]
    first = reward_z + beta * (ref_z - log_ref)
    tilde_r = np.where(good, reward_z, rewards)
    tilde_ref = np.where(good, ref_z, log_ref)
    with np.errstate(over="ignore", invalid="ignore"):  # rows without a good sample
        lam = np.mean(tilde_r + beta * np.exp(tilde_ref - log_pi), axis=-1, keepdims=True)
        gap = np.maximum(lam - reward_z, beta * np.exp(ref_z))
        flat = reward_z + gap + -np.exp(log_ref - ref_z) * gap
    method = methods[:, None]
    one = (method == "algorithm_1") | ((method == "algorithm_1_lambda") & reverse)
    lambda_form = (method == "algorithm_1_lambda") & ~reverse
    two = method == "algorithm_2"
    new_rewards = np.where(one, first, np.where(lambda_form, flat,
                                                np.where(two, tilde_r, rewards)))
    new_rewards = np.where(good, new_rewards, rewards)
    return new_rewards, np.where(two, tilde_ref, log_ref)


def log_exact_target(task: Task, log_ref: np.ndarray, regularizer: str, method: str,
                     beta: float) -> np.ndarray:
    """Log of the exact optimum of the run's objective on the whole outcome space.

    Vanilla: the Gibbs target (reverse) or ``β π_ref/(Λ − R)`` (forward); MARA: the target
    its algorithm induces (:mod:`bonkl.mara`) with the task's ``τ``.
    """
    p = np.exp(log_ref)
    p = p / p.sum()
    if _choice(regularizer, REGULARIZERS, "regularizer") == "reverse":
        return mara.log_reverse_target(p, task.rewards, beta, task.tau, method)
    target, _ = mara.forward_target(p, task.rewards, beta, task.tau, method)
    return np.log(target)


def train(task: Task, ref_logits: np.ndarray, runs: Sequence[Run], training: Training,
          rngs: Sequence[np.random.Generator],
          log_targets: np.ndarray | None = None) -> Trained:
    """Train ``runs`` side by side, run ``k`` drawing from ``rngs[k]`` (module doc).

    Exact :data:`bonkl.rl.metrics.METRICS` at :attr:`Training.checkpoints`.
    ``log_targets``: each run's :func:`log_exact_target` (rows), computed when not given.
    """
    if len(runs) != len(rngs) or not runs:
        raise ValueError(f"{len(runs)} runs and {len(rngs)} generators; expected one each")
    space = task.space
    log_ref = space.log_probs(ref_logits)
    if log_targets is None:
        log_targets = np.array([log_exact_target(task, log_ref, r.regularizer, r.method, r.beta)
                                for r in runs])
    column = lambda values: np.array(values)[:, None]  # noqa: E731
    beta = column([r.beta for r in runs])
    reverse = column([r.regularizer == "reverse" for r in runs])
    grpo = column([r.advantage == "grpo" for r in runs])
    methods = np.array([r.method for r in runs])
    theta = np.repeat(np.asarray(ref_logits, float)[None], len(runs), axis=0)
    adam = Adam(theta.shape, np.array([r.learning_rate for r in runs])[:, None, None])
    checkpoints = training.checkpoints
    curves = {name: np.zeros((len(runs), checkpoints.size)) for name in METRICS}
    for step in range(training.steps + 1):
        table = space.token_log_probs(theta)
        if step in checkpoints:
            values = evaluate(task, space.path_log_probs(table), log_ref, log_targets,
                              training.coverage_share)
            column_index = np.searchsorted(checkpoints, step)
            for name in METRICS:
                curves[name][:, column_index] = values[name]
        if step == training.steps:
            break
        if step % DRAW_BLOCK == 0:
            block = min(DRAW_BLOCK, training.steps - step)
            uniforms = np.stack([g.random((block, space.max_tokens, training.batch))
                                 for g in rngs])
        drawn = space.sample(table, uniforms[:, step % DRAW_BLOCK])
        log_pi = space.path_log_probs(table, drawn)
        rewards, ref = mara_batch(methods, task.rewards[drawn], log_ref[drawn], log_pi, beta,
                                  reverse, batch_tau(task, task.rewards[drawn], training))
        weights = advantages(scores(rewards, log_pi, ref, beta, reverse), grpo) / training.batch
        theta = theta - adam.update(-space.score_gradient(table, drawn, weights))
    curves["top_mode"] = curves["top_mode"].astype(np.int64)
    return Trained(checkpoints, curves, space.log_probs(theta))


def final_distribution(task: Task, log_pi: np.ndarray, log_ref: np.ndarray,
                       log_target: np.ndarray) -> dict[str, np.ndarray]:
    """Per well-formed answer, then ``malformed``: reward, validity, and the policy,
    reference and target masses (columns of a table)."""
    index = [task.space.index(a) for a in task.answers]

    def masses(log_q):
        q = np.exp(log_q)
        return np.append(q[index], q[task.malformed].sum())

    return {
        "answer": np.array([*task.answers, "malformed"]),
        "reward": np.append(task.rewards[index], 0.0),
        "valid": np.append(task.good[index], False),
        "policy": masses(log_pi),
        "reference": masses(log_ref),
        "target": masses(log_target),
    }
