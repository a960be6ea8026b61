"""Sampled KL-regularised policy gradient with and without MARA (paper C, "1 or 2" analogue).

A scaled-down NumPy stand-in for the paper's LLM runs: a policy
(:mod:`bonkl.rl.policies`: a table of logits, or a small network shared across positions)
starts at its pretrained reference and takes ``steps`` optimiser steps
(:mod:`bonkl.rl.optimizers`: Adam or plain SGD), each on a batch of ``batch`` answers it
samples. Many runs train at once as one NumPy computation with a leading run axis; each run
has its own generator, hyper-parameters and parameters, and nothing couples two runs, so a
run's numbers do not depend on which runs share its call (:func:`train`). Paper C does not
say which estimator, optimiser, learning rate, batch or step budget its runs used, so the
analogue names each *arm* for what it computes.

Per-sample scores (``y_i ~ π_θ``, rewards ``R_i``, log reference ``ℓ_i``), the KL folded
into the reward:

- reverse KL, ``J = E_π R − β KL(π ‖ π_ref)``: ``s_i = R_i − β (log π_θ(y_i) − ℓ_i)``, the
  "k1" estimator of the KL without its gradient (RLHF's KL-penalised reward); unbiased for
  ``∇J`` since ``E_π ∇ log π = 0``.
- forward KL, ``J = E_π R − β KL(π_ref ‖ π)``: ``∇(−β KL(π_ref ‖ π)) = β E_π[(π_ref/π_θ)
  ∇ log π]``, so ``s_i = R_i + β e^{ℓ_i}/π_θ(y_i)`` (importance-weighted, unbiased).

Arms (:data:`ARMS`); the update ascends ``Σ_{i,t} w_{it} ∇ log π_θ(y_t | y_<t)``:

- ``rloo``: RLOO (Kool et al. 2019; Ahmadian et al. 2024), the KL in the reward and a
  leave-one-out baseline over the batch: ``w_i = (s_i − mean_{j≠i} s_j)/B`` on every step
  of ``y_i``; an unbiased estimator of ``∇J``.
- ``grpo``: GRPO as published (Shao et al. 2024): the (MARA-augmented) reward alone is
  normalised within each group of ``group_size`` samples, ``A_i = (R_i − mean_g R)/(std_g R
  + 1e-8)`` (``std`` with ``ddof = 1``), and the KL is a separate loss term. Reverse KL: the
  "k3" estimator per token, ``k3_t = ρ_t − log ρ_t − 1`` with ``ρ_t = π_ref(y_t | y_<t) /
  π_θ(y_t | y_<t)``, whose gradient ``(1 − ρ_t) ∇ log π_θ(y_t | y_<t)`` has expectation
  ``Σ_s d_π(s) ∇ KL(π_ref(·|s) ‖ π_θ(·|s))`` (``d_π`` the visit probabilities held fixed):
  a per-token *forward* KL's gradient, not that of ``KL(π ‖ π_ref)``; ``w_{it} = (A_i −
  β(1 − ρ_t))/B``. Forward KL: the importance-weighted sequence term ``w_i = (A_i + β
  e^{ℓ_i}/π_θ(y_i))/B``. Algorithm 2 changes the reference in the KL term per *sequence*,
  which the per-token term does not have: the arm runs vanilla and the reward-augmenting
  MARA forms only (:data:`ARM_METHODS`).
- ``kl_score_normalised``: the KL-penalised score ``s_i`` normalised over the batch,
  ``w_i = (s_i − mean s)/((std s + 1e-8) B)``: neither RLOO nor GRPO (the KL stays in the
  normalised advantage).

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
from bonkl.rl.metrics import METRICS, evaluate
from bonkl.rl.optimizers import OPTIMIZERS, optimizer
from bonkl.rl.policies import TabularPolicy, stack
from bonkl.rl.tasks import Task

REGULARIZERS = ("reverse", "forward")
#: The arms by config name (module doc).
ARMS = ("rloo", "grpo", "kl_score_normalised")
#: The methods each arm runs (GRPO's per-token KL term has no per-sequence reference).
ARM_METHODS = {"rloo": mara.ALGORITHMS, "kl_score_normalised": mara.ALGORITHMS,
               "grpo": tuple(m for m in mara.ALGORITHMS if m != "algorithm_2")}
DRAW_BLOCK = 50  # steps of uniforms drawn per generator call (any value gives the same runs)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} not in {allowed}")
    return value


@dataclass(frozen=True)
class Training:
    """The step and batch budget shared by the runs of one call, GRPO's group size, and how
    MARA picks ``τ``."""

    steps: int
    batch: int
    eval_every: int
    coverage_share: float
    tau_percentile: float | None = None  # None: the task's τ
    group_size: int | None = None  # GRPO's groups; None: the whole batch is one group

    def __post_init__(self):
        if self.batch < 2:
            raise ValueError(f"batch must be >= 2 for RLOO, got {self.batch!r}")
        if self.steps < 1 or self.eval_every < 1:
            raise ValueError("steps and eval_every must be >= 1")
        if self.tau_percentile is not None and not 0 <= self.tau_percentile <= 100:
            raise ValueError(f"tau_percentile must be in [0, 100], got {self.tau_percentile!r}")
        if self.group_size is not None and (self.group_size < 2
                                            or self.batch % self.group_size):
            raise ValueError(f"group_size {self.group_size!r} must be >= 2 and divide the "
                             f"batch {self.batch}")

    @property
    def groups(self) -> int:
        """GRPO's groups per step."""
        return 1 if self.group_size is None else self.batch // self.group_size

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
    arm: str = "rloo"
    learning_rate: float = 0.05
    optimizer: str = "adam"

    def __post_init__(self):
        _choice(self.regularizer, REGULARIZERS, "regularizer")
        _choice(self.arm, ARMS, "arm")
        _choice(self.method, ARM_METHODS[self.arm], f"method of arm {self.arm!r}")
        _choice(self.optimizer, OPTIMIZERS, "optimizer")
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


def rloo_advantages(scores_: np.ndarray) -> np.ndarray:
    """RLOO's ``s_i − mean_{j≠i} s_j = B/(B − 1)·(s_i − mean s)`` along the last axis."""
    size = scores_.shape[-1]
    return size / (size - 1) * (scores_ - scores_.mean(axis=-1, keepdims=True))


def normalised(values: np.ndarray, groups: int = 1, ddof: int = 0) -> np.ndarray:
    """``(v_i − mean_g v)/(std_g v + 1e-8)`` within each of ``groups`` equal consecutive
    groups of the last axis (GRPO: ``ddof = 1``)."""
    shaped = values.reshape(*values.shape[:-1], groups, -1)
    centred = shaped - shaped.mean(axis=-1, keepdims=True)
    return (centred / (shaped.std(axis=-1, ddof=ddof, keepdims=True) + 1e-8)).reshape(
        values.shape)


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


def step_weights(arms: np.ndarray, rewards, log_pi, log_ref, step_log_pi, step_log_ref, beta,
                 reverse, groups: int) -> np.ndarray:
    """``w_{it}`` of each run's arm (module doc): ``(R, B, max_tokens)``.

    ``arms`` ``(R, 1)`` (names of :data:`ARMS`), ``rewards``, ``log_pi`` and ``log_ref``
    ``(R, B)`` (after MARA), ``step_log_pi`` and ``step_log_ref`` ``(R, B, max_tokens)``
    (:meth:`~bonkl.rl.autoregressive.SequenceSpace.step_log_probs`, 0 beyond a path's end,
    where ``1 − ρ_t = 0``), ``beta`` and ``reverse`` ``(R, 1)``; ``groups`` GRPO's groups.
    """
    batch = rewards.shape[-1]
    grpo = arms == "grpo"
    score = scores(rewards, log_pi, log_ref, beta, reverse)
    sequence = np.where(arms == "rloo", rloo_advantages(score),
                        np.where(grpo, normalised(rewards, groups, ddof=1), normalised(score)))
    weights = sequence[..., None]
    if np.any(grpo):
        with np.errstate(over="ignore"):
            rho = np.exp(step_log_ref - step_log_pi)
            forward = beta * np.exp(log_ref - log_pi)
        kl_term = np.where(reverse[..., None], -beta[..., None] * (1 - rho), forward[..., None])
        weights = weights + np.where(grpo[..., None], kl_term, 0.0)
    return weights / batch


def _per_run(values: np.ndarray, ndim: int) -> np.ndarray:
    """A per-run vector shaped to broadcast against arrays of ``ndim`` with a run axis."""
    return values.reshape(-1, *(1,) * (ndim - 1))


def train(task: Task, reference, runs: Sequence[Run], training: Training,
          rngs: Sequence[np.random.Generator], log_targets: np.ndarray | None = None,
          policy=None) -> Trained:
    """Train ``runs`` side by side, run ``k`` drawing from ``rngs[k]`` (module doc).

    ``policy``: a :mod:`bonkl.rl.policies` policy (default: the tabular one of the task's
    space); ``reference``: its parameters at the reference, a logit table for the tabular
    policy, the list of arrays for :class:`~bonkl.rl.policies.MLPPolicy`. Exact
    :data:`bonkl.rl.metrics.METRICS` at :attr:`Training.checkpoints`. ``log_targets``: each
    run's :func:`log_exact_target` (rows), computed when not given.
    """
    if len(runs) != len(rngs) or not runs:
        raise ValueError(f"{len(runs)} runs and {len(rngs)} generators; expected one each")
    space = task.space
    policy = policy or TabularPolicy(space)
    initial = ([np.asarray(reference, float)] if isinstance(reference, np.ndarray)
               else [np.asarray(p, float) for p in reference])
    ref_table = space.token_log_probs(policy.logits(stack(initial, 1))[0])
    log_ref = space.path_log_probs(ref_table)[0]
    if log_targets is None:
        log_targets = np.array([log_exact_target(task, log_ref, r.regularizer, r.method, r.beta)
                                for r in runs])
    column = lambda values: np.array(values)[:, None]  # noqa: E731
    beta = column([r.beta for r in runs])
    reverse = column([r.regularizer == "reverse" for r in runs])
    arms = column([r.arm for r in runs])
    any_grpo = bool(np.any(arms == "grpo"))
    methods = np.array([r.method for r in runs])
    sgd = np.array([r.optimizer == "sgd" for r in runs])
    rates = np.array([r.learning_rate for r in runs])
    params = stack(initial, len(runs))
    adams = [optimizer("adam", p.shape, _per_run(rates, p.ndim)) for p in params]
    sgds = [optimizer("sgd", p.shape, _per_run(rates, p.ndim)) for p in params]
    checkpoints = training.checkpoints
    curves = {name: np.zeros((len(runs), checkpoints.size)) for name in METRICS}
    for step in range(training.steps + 1):
        logits, cache = policy.logits(params)
        table = space.token_log_probs(logits)
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
        step_log_pi = space.step_log_probs(table, drawn)
        step_log_ref = (space.step_log_probs(np.broadcast_to(ref_table, table.shape), drawn)
                        if any_grpo else None)
        log_pi = step_log_pi.sum(axis=-1)
        rewards, ref = mara_batch(methods, task.rewards[drawn], log_ref[drawn], log_pi, beta,
                                  reverse, batch_tau(task, task.rewards[drawn], training))
        weights = step_weights(arms, rewards, log_pi, ref, step_log_pi, step_log_ref, beta,
                               reverse, training.groups)
        grads = policy.backward(params, cache, -space.score_gradient(table, drawn, weights))
        new = []
        for p, g, adam, plain in zip(params, grads, adams, sgds, strict=True):
            update = adam.update(g)
            if np.any(sgd):
                update = np.where(_per_run(sgd, g.ndim), plain.update(g), update)
            new.append(p - update)
        params = new
    curves["top_mode"] = curves["top_mode"].astype(np.int64)
    final_table = space.token_log_probs(policy.logits(params)[0])
    return Trained(checkpoints, curves, space.path_log_probs(final_table))


def final_distribution(task: Task, log_pi: np.ndarray, log_ref: np.ndarray,
                       log_target: np.ndarray) -> dict[str, np.ndarray]:
    """Per well-formed answer, then ``malformed``: reward, validity, and the masses of the
    trained policy (``trained``), the reference and the target (columns of a table)."""
    index = [task.space.index(a) for a in task.answers]

    def masses(log_q):
        q = np.exp(log_q)
        return np.append(q[index], q[task.malformed].sum())

    return {
        "answer": np.array([*task.answers, "malformed"]),
        "reward": np.append(task.rewards[index], 0.0),
        "valid": np.append(task.good[index], False),
        "trained": masses(log_pi),
        "reference": masses(log_ref),
        "target": masses(log_target),
    }
