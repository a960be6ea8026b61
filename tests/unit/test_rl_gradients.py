"""The sampled-RL analogue's gradient estimators and policies against exact computations.

- each arm's per-step weights (:func:`bonkl.rl.trainer.step_weights`): RLOO's equal the
  unbiased estimator checked in ``test_policy_gradient``; GRPO's separate KL terms, with
  the reward part switched off, have the Monte Carlo mean (5 standard errors) of their
  exact expectations: per-token k3 gives ``−β Σ_s d_π(s) (π(·|s) − π_ref(·|s))`` (a
  per-token forward KL's gradient), the forward-KL sequence term ``−β ∇KL(π_ref ‖ π)`` by
  finite differences;
- the shared-parameter policy's hand-written back-propagation against central finite
  differences, its pretraining against the tabular fit (the likelihood's maximum), and its
  vectorised training against each run alone, bit for bit;
- plain SGD's step by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from bonkl.divergence import kl_from_logs
from bonkl.plumbing.seeding import generator
from bonkl.rl.optimizers import SGD, optimizer
from bonkl.rl.policies import MLPPolicy, TabularPolicy, build_policy, stack
from bonkl.rl.tasks import build_task, pretrain_reference
from bonkl.rl.trainer import Run, Training, rloo_advantages, scores, step_weights, train

SPEC = dict(vocabulary="012", max_tokens=2, answers={"1": 1.0, "2": 1.0}, tau=1.0,
            corpus=dict(size=400, smoothing=0.1, validity=0.2, preference=0.8,
                        counts="expected", suffixes={"0": 1.0}))


@pytest.fixture(scope="module")
def task():
    return build_task("one_or_two", SPEC)


@pytest.fixture(scope="module")
def reference(task):
    return pretrain_reference(task, generator(0))


def _visits(space, table):
    """``d_π(s)``: the probability that prefix ``s`` is written (and not ended before)."""
    prefixes = [o for o in space.outcomes if len(o) < space.max_tokens]
    return np.array([np.exp(sum(table[space.state(p[:t]), space.vocabulary.index(p[t])]
                                for t in range(len(p)))) for p in prefixes])


def _estimates(task, theta, log_ref, ref_table, arm, regularizer, beta, batch, draws, rng,
               rewards=None):
    space = task.space
    table = space.token_log_probs(theta)[None]
    reward_table = task.rewards if rewards is None else rewards
    out = []
    for _ in range(draws):
        drawn = space.sample(table, rng.random((1, space.max_tokens, batch)))
        step_pi = space.step_log_probs(table, drawn)
        step_ref = space.step_log_probs(ref_table[None], drawn)
        weights = step_weights(np.array([[arm]]), reward_table[drawn], step_pi.sum(-1),
                               log_ref[drawn], step_pi, step_ref, np.array([[beta]]),
                               np.array([[regularizer == "reverse"]]), 2)
        out.append(space.score_gradient(table, drawn, weights)[0].ravel())
    return np.array(out)


def _within(estimates, exact, z=5.0):
    error = estimates.mean(axis=0) - exact
    standard_error = estimates.std(axis=0) / np.sqrt(len(estimates))
    assert np.all(np.abs(error) <= z * standard_error + 1e-12), np.max(np.abs(error))


def test_rloo_weights_are_the_unbiased_estimator(task, reference):
    """The trainer's RLOO weights are the leave-one-out estimator's, on every path step."""
    logits, _ = reference
    space, rng = task.space, generator(1)
    table = space.token_log_probs(logits)[None]
    log_ref = space.log_probs(logits)
    drawn = space.sample(table, rng.random((1, space.max_tokens, 8)))
    step_pi = space.step_log_probs(table, drawn)
    for regularizer in ("reverse", "forward"):
        reverse = np.array([[regularizer == "reverse"]])
        got = step_weights(np.array([["rloo"]]), task.rewards[drawn], step_pi.sum(-1),
                           log_ref[drawn], step_pi, step_pi, np.array([[0.1]]), reverse, 1)
        want = rloo_advantages(scores(task.rewards[drawn], step_pi.sum(-1), log_ref[drawn],
                                      0.1, reverse)) / 8
        np.testing.assert_array_equal(got, np.broadcast_to(want[..., None], got.shape))


def test_grpo_k3_term_has_the_per_token_forward_kl_gradient(task, reference):
    """Equal rewards switch GRPO's normalised advantage off; the k3 term's estimates average
    to ``−β d_π(s)(π(·|s) − π_ref(·|s))``: not the gradient of ``−β KL(π ‖ π_ref)``."""
    logits, _ = reference
    space, beta, rng = task.space, 0.5, generator(2)
    theta = rng.normal(size=space.shape) * 0.5
    ref_table = space.token_log_probs(logits)
    table = space.token_log_probs(theta)
    exact = -beta * _visits(space, table)[:, None] * (np.exp(table) - np.exp(ref_table))
    estimates = _estimates(task, theta, space.log_probs(logits), ref_table, "grpo", "reverse",
                           beta, 8, 3000, rng, rewards=np.ones(len(space.outcomes)))
    _within(estimates, exact.ravel())
    reverse_kl = _numeric_gradient(lambda t: -beta * kl_from_logs(
        space.log_probs(t.reshape(space.shape)), space.log_probs(logits)), theta.ravel())
    assert np.max(np.abs(exact.ravel() - reverse_kl)) > 0.01  # a different gradient


def test_grpo_forward_term_is_unbiased(task, reference):
    """Forward KL under GRPO: the importance-weighted sequence term averages to
    ``−β ∇KL(π_ref ‖ π_θ)`` (central finite differences)."""
    logits, _ = reference
    space, beta, rng = task.space, 0.5, generator(3)
    theta = rng.normal(size=space.shape) * 0.5
    log_ref = space.log_probs(logits)
    exact = _numeric_gradient(lambda t: -beta * kl_from_logs(
        log_ref, space.log_probs(t.reshape(space.shape))), theta.ravel())
    estimates = _estimates(task, theta, log_ref, space.token_log_probs(logits), "grpo",
                           "forward", beta, 8, 3000, rng, rewards=np.ones(len(space.outcomes)))
    _within(estimates, exact)


def _numeric_gradient(value, x, h=1e-6):
    grad = np.zeros_like(x)
    for k in range(x.size):
        step = np.zeros_like(x)
        step[k] = h
        grad[k] = (value(x + step) - value(x - step)) / (2 * h)
    return grad


def test_mlp_backward_matches_finite_differences(task):
    """``Σ G ∘ logits(θ)`` for a random ``G``: the hand-written gradient in every parameter
    equals central differences (errors at the 1e-8 scale of the differences' rounding)."""
    policy = MLPPolicy(task.space, embedding=3, hidden=4)
    rng = generator(4)
    params = stack(policy.initial(rng, 0.7), 2)
    params = [p + rng.normal(scale=0.3, size=p.shape) for p in params]  # biases too
    weight = rng.normal(size=(2, *task.space.shape))
    logits, cache = policy.logits(params)
    grads = policy.backward(params, cache, weight)
    for j, (p, g) in enumerate(zip(params, grads, strict=True)):
        assert g.shape == p.shape, policy.names[j]

        def value(flat, j=j):
            changed = list(params)
            changed[j] = flat.reshape(params[j].shape)
            return float(np.sum(weight * policy.logits(changed)[0]))

        np.testing.assert_allclose(g.ravel(), _numeric_gradient(value, p.ravel()), atol=1e-7,
                                   err_msg=policy.names[j])


def test_mlp_shares_its_closing_logit(task):
    """One network for every prefix: the EOS bias moves the closing logit of every state."""
    policy = MLPPolicy(task.space, 3, 4)
    params = stack(policy.initial(generator(5), 0.5), 1)
    before = policy.logits(params)[0]
    params[5] = params[5] + np.eye(task.space.shape[1])[task.space.eos]
    after = policy.logits(params)[0]
    np.testing.assert_allclose(after - before, np.broadcast_to(
        np.eye(task.space.shape[1])[task.space.eos], before.shape), atol=1e-15)


def test_mlp_pretraining_approaches_the_tabular_maximum(task, reference):
    """The tabular fit maximises the smoothed likelihood; the network, trained on the same
    objective, gets within a small gap of it and never above it; deterministic."""
    logits, counts = reference
    space = task.space
    transitions = space.transition_counts(counts) + task.smoothing
    policy = MLPPolicy(space, 8, 16)
    params = policy.pretrain(space.transition_counts(counts), task.smoothing, generator(6),
                             0.5, 1500, 0.03)
    again = policy.pretrain(space.transition_counts(counts), task.smoothing, generator(6),
                            0.5, 1500, 0.03)
    assert all(np.array_equal(a, b) for a, b in zip(params, again, strict=True))

    def likelihood(table):
        return float(np.sum(transitions * table) / transitions.sum())

    tabular = likelihood(space.token_log_probs(logits))
    mlp = likelihood(space.token_log_probs(policy.logits(stack(params, 1))[0][0]))
    start = likelihood(space.token_log_probs(policy.logits(
        stack(policy.initial(generator(6), 0.5), 1))[0][0]))
    assert start < mlp <= tabular + 1e-12
    assert tabular - mlp < 0.01 * (tabular - start)


MIXED = [Run("reverse", "vanilla", 0.01), Run("forward", "algorithm_1", 0.03, "grpo", 0.1),
         Run("forward", "algorithm_2", 0.01, "rloo", 0.5, "sgd"),
         Run("reverse", "algorithm_1", 0.02, "kl_score_normalised"),
         Run("forward", "vanilla", 0.1, "grpo", 0.3, "sgd")]


@pytest.mark.parametrize("kind", ["tabular", "mlp"])
def test_vectorised_training_equals_each_run_alone(task, reference, kind):
    """Both policy kinds, every arm and both optimisers: a run trained among others gives
    the same bits as trained alone."""
    logits, counts = reference
    policy = build_policy(kind, task.space, {"embedding": 3, "hidden": 4})
    params = (logits if isinstance(policy, TabularPolicy) else policy.pretrain(
        task.space.transition_counts(counts), task.smoothing, generator(7), 0.5, 50, 0.05))
    training = Training(steps=60, batch=8, eval_every=20, coverage_share=0.25, group_size=4)
    rngs = lambda: [generator(8, k) for k in range(len(MIXED))]  # noqa: E731
    together = train(task, params, MIXED, training, rngs(), policy=policy)
    for k, (run, rng) in enumerate(zip(MIXED, rngs(), strict=True)):
        alone = train(task, params, [run], training, [rng], policy=policy)
        assert np.array_equal(alone.log_pi[0], together.log_pi[k]), run
        for name, values in alone.metrics.items():
            assert np.array_equal(values[0], together.metrics[name][k]), (run, name)


def test_mlp_training_moves_towards_the_target(task, reference):
    """RLOO on the shared network lowers the KL to the exact target over training."""
    logits, counts = reference
    policy = MLPPolicy(task.space, 8, 16)
    params = policy.pretrain(task.space.transition_counts(counts), task.smoothing,
                             generator(9), 0.5, 800, 0.03)
    trained = train(task, params, [Run("reverse", "vanilla", 0.1)],
                    Training(steps=400, batch=32, eval_every=200, coverage_share=0.25),
                    [generator(10)], policy=policy)
    kl = trained.metrics["kl_target"][0]
    assert kl[-1] < 0.5 * kl[0]


def test_sgd_step_by_hand():
    sgd = SGD((3,), np.array(0.5))
    np.testing.assert_array_equal(sgd.update(np.array([2.0, -1.0, 0.0])), [1.0, -0.5, 0.0])
    assert isinstance(optimizer("sgd", (2,), 0.1), SGD)
    with pytest.raises(ValueError, match="optimizer 'lbfgs' not in"):
        optimizer("lbfgs", (2,), 0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        SGD((2,), 0.0)


def test_bad_runs_name_the_field():
    with pytest.raises(ValueError, match="method of arm 'grpo' 'algorithm_2' not in"):
        Run("forward", "algorithm_2", 0.1, "grpo")
    with pytest.raises(ValueError, match="arm 'ppo' not in"):
        Run("reverse", "vanilla", 0.1, "ppo")
    with pytest.raises(ValueError, match="optimizer 'rmsprop' not in"):
        Run("reverse", "vanilla", 0.1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="group_size 3 must be >= 2 and divide the batch 8"):
        Training(steps=1, batch=8, eval_every=1, coverage_share=0.25, group_size=3)
