"""The sampled policy-gradient analogue of paper C's "1 or 2" experiment.

Checked against independent computations: sequence probabilities by hand, sampling by a
binomial bound on every outcome, the score gradient and the regularised objectives'
gradients by finite differences, the RLOO estimators' mean by Monte Carlo with a
confidence interval, the exact targets as stationary points of the exact objectives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from bonkl import mara, tilt
from bonkl.divergence import kl_from_logs
from bonkl.plumbing.seeding import generator
from bonkl.rl.adam import Adam
from bonkl.rl.autoregressive import SequenceSpace
from bonkl.rl.metrics import METRICS, evaluate, mode_shares
from bonkl.rl.tasks import (
    TaskSpecError,
    answer_format,
    build_task,
    expand_tasks,
    pretrain_reference,
)
from bonkl.rl.trainer import (
    Run,
    Training,
    final_distribution,
    log_exact_target,
    mara_batch,
    normalised,
    rloo_advantages,
    scores,
    train,
)
from bonkl.study.policy_gradient import (
    budget_table,
    clopper_pearson,
    findings,
    gather,
    job_runs,
    judge_checkpoints,
    margins,
    pooled,
    stage_runs,
    summary_table,
    target_rows,
)

ONE_OR_TWO = dict(vocabulary="012", max_tokens=2, answers={"1": 1.0, "2": 1.0}, tau=1.0,
                  corpus=dict(size=400, smoothing=0.1,
                              weights={"1": 0.78, "2": 0.12, "12": 0.05, "": 0.05}))
BINS = dict(vocabulary="0123456789", max_tokens=2, tau=1.0,
            bins=dict(count=12, plateaus=[[2, 4], [9, 11]], plateau_reward=1.0,
                      background_reward=0.2),
            corpus=dict(size=300, smoothing=0.1, decay=0.3, malformed={"": 0.05}))


@pytest.fixture(scope="module")
def task():
    return build_task("one_or_two", ONE_OR_TWO)


@pytest.fixture(scope="module")
def reference(task):
    logits, _ = pretrain_reference(task, generator(0, "test", "corpus"))
    return logits


# --- the autoregressive model ---------------------------------------------------------

def test_outcomes_are_numbered_by_length_then_base_v():
    space = SequenceSpace("ab", 2)
    assert space.outcomes == ("", "a", "b", "aa", "ab", "ba", "bb")
    assert [space.index(o) for o in space.outcomes] == list(range(7))
    assert space.shape == (3, 3) and space.eos == 2
    with pytest.raises(ValueError, match="not an answer"):
        space.index("abc")


def test_sequence_log_probs_by_hand():
    space = SequenceSpace("ab", 2)
    logits = np.log(np.array([[0.5, 0.3, 0.2],    # after "": a, b, EOS
                              [0.1, 0.6, 0.3],    # after "a"
                              [0.25, 0.25, 0.5]]))  # after "b"
    want = {"": 0.2, "a": 0.5 * 0.3, "b": 0.3 * 0.5, "aa": 0.5 * 0.1, "ab": 0.5 * 0.6,
            "ba": 0.3 * 0.25, "bb": 0.3 * 0.25}
    got = np.exp(space.log_probs(logits))
    np.testing.assert_allclose(got, [want[o] for o in space.outcomes], rtol=1e-14)


def test_sampling_matches_the_exact_probabilities():
    space = SequenceSpace("012", 3)
    rng = generator(1, "sampling")
    logits = rng.normal(size=space.shape) * 1.5
    p = np.exp(space.log_probs(logits))
    size = 400_000
    uniforms = rng.random((space.max_tokens, size))
    freq = np.bincount(space.sample(space.token_log_probs(logits), uniforms),
                       minlength=p.size) / size
    # every outcome within 5 binomial standard errors (+ a floor for tiny p)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / size) + 1e-5)


def test_score_gradient_matches_finite_differences():
    space = SequenceSpace("01", 3)
    rng = generator(2, "gradient")
    logits = rng.normal(size=space.shape)
    outcomes = rng.integers(0, len(space.outcomes), size=7)
    weights = rng.normal(size=7)

    def value(theta):
        return weights @ space.log_probs(theta.reshape(space.shape))[outcomes]

    numeric = np.zeros(logits.size)
    for k in range(logits.size):
        step = np.zeros(logits.size)
        step[k] = 1e-6
        numeric[k] = (value(logits.ravel() + step) - value(logits.ravel() - step)) / 2e-6
    got = space.score_gradient(space.token_log_probs(logits), outcomes, weights).ravel()
    np.testing.assert_allclose(got, numeric, atol=1e-8)


def test_maximum_likelihood_fit_is_the_empirical_distribution():
    """A tabular model can represent any law on its outcomes: the MLE is the corpus's."""
    space = SequenceSpace("xy", 2)
    counts = np.array([3, 0, 5, 1, 0, 2, 9], dtype=float)
    fitted = np.exp(space.log_probs(space.fit_reference(counts, 1e-12)))
    np.testing.assert_allclose(fitted, counts / counts.sum(), atol=1e-10)
    smoothed = np.exp(space.log_probs(space.fit_reference(counts, 0.5)))
    assert np.all(smoothed > 0) and abs(smoothed.sum() - 1) < 1e-14


# --- tasks -----------------------------------------------------------------------------

def test_task_rewards_validity_and_modes(task):
    space = task.space
    assert task.rewards[space.index("1")] == 1 and task.rewards[space.index("12")] == 0
    assert set(np.flatnonzero(task.good)) == {space.index("1"), space.index("2")}
    assert task.malformed.sum() == len(space.outcomes) - 2
    assert abs(task.corpus.sum() - 1) < 1e-15
    bins = build_task("bins", BINS)
    assert bins.answers[:3] == ("00", "01", "02") and len(bins.answers) == 12
    assert [list(m) for m in bins.modes] == [[bins.space.index(a) for a in ("02", "03")],
                                             [bins.space.index(a) for a in ("09", "10")]]
    assert bins.rewards[bins.space.index("05")] == 0.2


@pytest.mark.parametrize(("change", "message"), [
    ({"answers": {"1": 1.0, "19": 1.0}}, "answers: '19' is not an answer"),
    ({"answers": {1: 1.0, "2": 1.0}}, "answers: 1 is a int; expected a string"),
    ({"tau": 2.0}, "tau: is 2.0, leaving 0 valid answer(s)"),
    ({"corpus": dict(size=10, smoothing=0.1, weights={"1": -1.0})},
     "corpus.weights: '1' has weight -1.0"),
    ({"bins": {"count": 5, "plateaus": [[3, 6]], "plateau_reward": 1.0,
               "background_reward": 0.0}}, "bins.plateaus[0]: is [3, 6]"),
    ({"vocabulary": "00"}, "vocabulary '00' must be non-empty distinct"),
])
def test_bad_task_specs_name_the_key(change, message):
    spec = dict(ONE_OR_TWO, **change)
    if "bins" in change:
        spec.pop("answers")
        spec["corpus"] = dict(size=10, smoothing=0.1, decay=0.1)
        spec["vocabulary"] = "0123456789"
    with pytest.raises(TaskSpecError) as err:
        build_task("t", spec, key="policy_gradient.tasks[0] (t)")
    assert str(err.value).startswith("policy_gradient.tasks[0] (t)")
    assert message in str(err.value)


# --- metrics ---------------------------------------------------------------------------

def test_metrics_by_hand(task):
    space = task.space
    pi = np.full(len(space.outcomes), 0.1 / (len(space.outcomes) - 2))
    pi[space.index("1")], pi[space.index("2")] = 0.6, 0.3
    log_pi = np.log(pi)
    got = evaluate(task, log_pi, log_pi, log_pi, coverage_share=0.25)
    h = -(2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    assert tuple(got) == METRICS
    assert got["mean_reward"] == pytest.approx(0.9) and got["validity"] == pytest.approx(0.9)
    assert got["valid_entropy"] == pytest.approx(h)
    assert got["valid_entropy_normalized"] == pytest.approx(h / np.log(2))
    assert got["top_mode_share"] == pytest.approx(2 / 3) and got["coverage"] == 1.0
    assert got["kl_reference"] == 0 and got["kl_target"] == 0
    np.testing.assert_allclose(mode_shares(task, log_pi), [2 / 3, 1 / 3])


# --- estimators and targets ------------------------------------------------------------

def _objective(task, log_ref, rewards, beta, regularizer):
    """The exact J(θ) = E_π R − β·KL, as a function of the flattened logit table."""
    def value(theta):
        log_pi = task.space.log_probs(theta.reshape(task.space.shape))
        if regularizer == "reverse":
            kl = kl_from_logs(log_pi, log_ref)
        else:
            kl = kl_from_logs(log_ref, log_pi)
        return np.exp(log_pi) @ rewards - beta * kl
    return value


def _numeric_gradient(value, theta, h=1e-6):
    grad = np.zeros(theta.size)
    for k in range(theta.size):
        step = np.zeros(theta.size)
        step[k] = h
        grad[k] = (value(theta + step) - value(theta - step)) / (2 * h)
    return grad


@pytest.mark.parametrize("regularizer", ["reverse", "forward"])
def test_rloo_estimator_is_unbiased(task, reference, regularizer):
    """Mean of 3000 batch estimates within 5 standard errors of ∇J (finite differences)."""
    space, beta, batch = task.space, 0.3, 8
    rng = generator(3, "rloo", regularizer)
    theta = rng.normal(size=space.shape) * 0.5  # every outcome likely: standard errors hold
    log_ref = space.log_probs(reference)
    table = space.token_log_probs(theta)
    log_pi = space.path_log_probs(table)
    estimates = []
    for _ in range(3000):
        drawn = space.sample(table, rng.random((space.max_tokens, batch)))
        weights = rloo_advantages(scores(task.rewards[drawn], log_pi[drawn], log_ref[drawn],
                                         beta, regularizer == "reverse"))
        estimates.append(space.score_gradient(table, drawn, weights / batch).ravel())
    estimates = np.array(estimates)
    exact = _numeric_gradient(_objective(task, log_ref, task.rewards, beta, regularizer),
                              theta.ravel())
    error = estimates.mean(axis=0) - exact
    standard_error = estimates.std(axis=0) / np.sqrt(len(estimates))
    assert np.all(np.abs(error) <= 5 * standard_error + 1e-9), np.max(np.abs(error))


@pytest.mark.parametrize("regularizer", ["reverse", "forward"])
@pytest.mark.parametrize("method", ["vanilla", "algorithm_1"])
def test_exact_target_is_stationary(task, reference, regularizer, method):
    """∇J = 0 at θ = log T, J with MARA's rewards R̄ (global anchor) when method is mara."""
    beta = 0.05
    log_ref = task.space.log_probs(reference)
    rewards = task.rewards
    if method == "algorithm_1":
        rewards = mara.augment(rewards, log_ref, beta, task.tau)
    log_target = log_exact_target(task, log_ref, regularizer, method, beta)
    # a logit table with exactly the target's sequence law: fit it as a corpus of "counts"
    theta = task.space.fit_reference(np.exp(log_target) * 1e12, 1e-300)
    np.testing.assert_allclose(task.space.log_probs(theta), log_target, atol=1e-9)
    grad = _numeric_gradient(_objective(task, log_ref, rewards, beta, regularizer),
                             theta.ravel())
    assert np.max(np.abs(grad)) < 1e-6


def test_targets_match_the_tilt_module(task, reference):
    log_ref = task.space.log_probs(reference)
    p = np.exp(log_ref) / np.exp(log_ref).sum()
    np.testing.assert_allclose(
        np.exp(log_exact_target(task, log_ref, "reverse", "vanilla", 0.1)),
        tilt.reverse_kl_target(p, task.rewards, 0.1), rtol=1e-12, atol=1e-300)
    forward, _ = tilt.forward_kl_target(p, task.rewards, 0.1)
    np.testing.assert_allclose(
        np.exp(log_exact_target(task, log_ref, "forward", "vanilla", 0.1)), forward,
        rtol=1e-12)
    mara_target = np.exp(log_exact_target(task, log_ref, "reverse", "algorithm_1", 0.1))
    good = mara_target[task.good]
    assert good.max() / good.min() - 1 < 1e-12  # flat over the valid answers


TRAINING = Training(steps=600, batch=32, eval_every=100, coverage_share=0.25)


def _train_one(task, reference, run, training, rng):
    return train(task, reference, [run], training, [rng])


@pytest.mark.parametrize(("regularizer", "method"), [("reverse", "vanilla"),
                                                     ("forward", "vanilla"),
                                                     ("reverse", "algorithm_1"),
                                                     ("forward", "algorithm_2")])
def test_training_reaches_the_exact_target(task, reference, regularizer, method):
    trained = _train_one(task, reference, Run(regularizer, method, 0.1), TRAINING,
                         generator(4, regularizer, method))
    assert trained.steps.tolist() == [0, 100, 200, 300, 400, 500, 600]
    kl = trained.metrics["kl_target"][0]
    assert kl[-1] < 0.02 < kl[0]


def test_mara_makes_the_valid_answers_near_uniform(task, reference):
    vanilla = _train_one(task, reference, Run("reverse", "vanilla", 0.05), TRAINING,
                         generator(5, "vanilla"))
    with_mara = _train_one(task, reference, Run("reverse", "algorithm_1", 0.05), TRAINING,
                           generator(5, "mara"))
    assert vanilla.metrics["valid_entropy_normalized"][0, -1] < 0.8
    assert with_mara.metrics["valid_entropy_normalized"][0, -1] > 0.95


MIXED = [Run("reverse", "vanilla", 0.01), Run("forward", "algorithm_1", 0.03, "grpo", 0.1),
         Run("forward", "algorithm_2", 0.01, "rloo", 0.02, "sgd"),
         Run("forward", "algorithm_1_lambda", 0.02, "kl_score_normalised"),
         Run("reverse", "algorithm_1", 0.001, "grpo", optimizer="sgd", learning_rate=1.0),
         Run("reverse", "algorithm_1_lambda", 0.01), Run("forward", "vanilla", 1.0, "grpo")]


@pytest.mark.parametrize("percentile", [None, 75])
def test_vectorised_training_equals_each_run_alone(task, reference, percentile):
    """Same seeds, same numbers: a run trained among others equals it trained alone."""
    training = Training(steps=120, batch=8, eval_every=40, coverage_share=0.25,
                        tau_percentile=percentile, group_size=4)
    together = train(task, reference, MIXED, training,
                     [generator(8, k) for k in range(len(MIXED))])
    for k, run in enumerate(MIXED):
        alone = _train_one(task, reference, run, training, generator(8, k))
        assert np.array_equal(alone.log_pi[0], together.log_pi[k]), run
        for name, values in alone.metrics.items():
            assert np.array_equal(values[0], together.metrics[name][k]), (run, name)
    again = train(task, reference, MIXED, training,
                  [generator(8, k) for k in range(len(MIXED))])
    assert np.array_equal(again.log_pi, together.log_pi)


def test_mara_batch_rows_equal_the_library_per_batch(task, reference):
    """Each row of the batched MARA equals bonkl.mara's one-batch functions."""
    rng = generator(9, "mara batch")
    log_ref = task.space.log_probs(reference)
    drawn = rng.integers(0, len(task.space.outcomes), size=(6, 12))
    drawn[:, 0] = task.space.index("1")  # a good sample in each row...
    drawn[5] = task.space.index("0")  # ...but the last row has none
    rewards, ref = task.rewards[drawn], log_ref[drawn]
    log_pi = rng.normal(-3, 1, size=drawn.shape)
    methods = np.array(["algorithm_1", "algorithm_2", "algorithm_1_lambda",
                        "algorithm_1_lambda", "vanilla", "algorithm_2"])
    reverse = np.array([True, False, False, True, False, False])[:, None]
    beta = np.full((6, 1), 0.05)
    tau = np.full((6, 1), task.tau)
    got_r, got_ref = mara_batch(methods, rewards, ref, log_pi, beta, reverse, tau)
    for k, method in enumerate(methods):
        want_ref = ref[k]
        if method == "algorithm_1" or (method == "algorithm_1_lambda" and reverse[k, 0]):
            want = mara.augment(rewards[k], ref[k], 0.05, task.tau)
        elif method == "algorithm_2":
            want, want_ref = mara.anchor_reference(rewards[k], ref[k], task.tau)
        elif method == "algorithm_1_lambda":
            want = mara.augment_lambda(rewards[k], ref[k], log_pi[k], 0.05, task.tau)
        else:
            want = rewards[k]
        np.testing.assert_array_equal(got_r[k], want, err_msg=method)
        np.testing.assert_array_equal(got_ref[k], want_ref, err_msg=method)
    np.testing.assert_array_equal(got_r[5], rewards[5])


def test_advantages_by_hand():
    s = np.array([[1.0, 2.0, 3.0, 6.0]])
    np.testing.assert_allclose(rloo_advantages(s), 4 / 3 * (s - 3.0))
    np.testing.assert_allclose(normalised(s), (s - 3.0) / (np.sqrt(3.5) + 1e-8))
    assert np.all(normalised(np.ones((1, 5))) == 0)  # a group of equal scores
    # GRPO: two groups of two, each normalised by its own (ddof = 1) standard deviation
    grouped = normalised(s, groups=2, ddof=1)
    np.testing.assert_allclose(grouped, [[-0.5 / (np.sqrt(0.5) + 1e-8), 0.5 / (np.sqrt(0.5) + 1e-8),
                                          -1.5 / (np.sqrt(4.5) + 1e-8),
                                          1.5 / (np.sqrt(4.5) + 1e-8)]])


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    adam = Adam((3,), 0.1)
    np.testing.assert_allclose(adam.update(np.array([2.0, -0.5, 1e-3])), [0.1, -0.1, 0.1],
                               rtol=1e-4)


# --- the study: runs judged, margins, summary ------------------------------------------

JUDGING = {"collapse_share": 0.95, "near_uniform": 0.95, "coverage_share": 0.25,
           "many_share": 0.5, "reward_tolerance": 0.01, "confidence": 0.95}


def _log_pi(task, share):
    log_pi = np.full(len(task.space.outcomes), -50.0)
    log_pi[task.space.index("1")] = np.log(share * 0.98)
    log_pi[task.space.index("2")] = np.log((1 - share) * 0.98)
    return log_pi - special.logsumexp(log_pi)


def _curves(task, log_ref, shares, beta=0.01, steps=(0, 10), dynamics="rloo"):
    """Checkpoint rows of runs whose policy at each checkpoint has valid share ``share`` on
    "1" (one share for every checkpoint after 0, or one per checkpoint)."""
    frames = []
    for (method, seed), share in shares.items():
        per_step = share if isinstance(share, tuple) else (share,) * (len(steps) - 1)
        labels = dict(task="one_or_two", policy="tabular", dynamics=dynamics,
                      regularizer="reverse", method=method, beta=beta, seed=seed,
                      steps=steps[-1])
        log_target = log_exact_target(task, log_ref, "reverse", method, beta)
        rows = [{**labels, "step": 0, **evaluate(task, log_ref, log_ref, log_target, 0.25)}]
        for step, value in zip(steps[1:], per_step, strict=True):
            rows.append({**labels, "step": step,
                         **evaluate(task, _log_pi(task, value), log_ref, log_target, 0.25)})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


SHARES = {("vanilla", 0): 0.99, ("vanilla", 1): 0.97, ("vanilla", 2): 0.8,
          ("vanilla", 3): 0.02, ("algorithm_1", 0): 0.5, ("algorithm_1", 1): 0.52,
          ("algorithm_1", 2): 0.7, ("algorithm_1", 3): 0.49}


@pytest.fixture(scope="module")
def judged(task, reference):
    log_ref = task.space.log_probs(reference)
    curves = judge_checkpoints(_curves(task, log_ref, SHARES), JUDGING, [0.01])
    return gather(task, {"tabular": log_ref}, curves, [10], JUDGING)


def test_gather_judges_each_run_from_its_shares(task, judged):
    """Collapse onto either answer counts; the counts come from the shares, not typed in."""
    want_collapsed = [max(s, 1 - s) >= 0.95 for s in SHARES.values()]
    assert judged["collapsed_final"].tolist() == want_collapsed
    assert judged["top_answer"].tolist()[:4] == ["1", "1", "1", "2"]
    np.testing.assert_allclose(judged["favourite_share"], list(SHARES.values()), rtol=1e-9)
    entropy = [-(s * np.log(s) + (1 - s) * np.log(1 - s)) / np.log(2) for s in SHARES.values()]
    assert judged["near_uniform"].tolist() == [h >= 0.95 for h in entropy]
    vanilla_target = judged[judged["method"] == "vanilla"]["target_top_mode_share"].iloc[0]
    assert judged["past_target"].tolist() == [c and vanilla_target < 0.95 if m == "vanilla"
                                              else c for (m, _), c in zip(SHARES,
                                                                          want_collapsed,
                                                                          strict=True)]
    assert (judged["reference_validity"] > 0.5).all()
    assert (judged["steps"] == 10).all()


def test_counts_over_time_final_and_ever(task, reference):
    """A run collapsed at step 10 that relaxes by step 20: collapsed_final is True at the
    10-step budget and False at the 20-step one, collapsed_ever True at both; a run that
    only collapses at step 20 is never collapsed at the 10-step budget."""
    log_ref = task.space.log_probs(reference)
    shares = {("vanilla", 0): (0.99, 0.7), ("vanilla", 1): (0.6, 0.98),
              ("vanilla", 2): (0.6, 0.6)}
    curves = judge_checkpoints(_curves(task, log_ref, shares, steps=(0, 10, 20)), JUDGING,
                               [0.01])
    runs = gather(task, {"tabular": log_ref}, curves, [10, 20], JUDGING).set_index(
        ["steps", "seed"])
    assert runs["collapsed_final"].to_dict() == {(10, 0): True, (10, 1): False, (10, 2): False,
                                                 (20, 0): False, (20, 1): True, (20, 2): False}
    assert runs["collapsed_ever"].to_dict() == {(10, 0): True, (10, 1): False, (10, 2): False,
                                                (20, 0): True, (20, 1): True, (20, 2): False}
    # a budget beyond a run's steps gives it no row
    assert len(gather(task, {"tabular": log_ref}, curves, [10, 40], JUDGING)) == 3


def _pooled_runs(task, log_ref):
    """Vanilla and MARA runs at two βs, four seeds each: at β = 0.01 three vanilla runs of
    four collapse, at β = 0.02 all four; MARA near uniform in 3/4 and 1/4."""
    frames = [
        _curves(task, log_ref, {("vanilla", 0): 0.99, ("vanilla", 1): 0.97, ("vanilla", 2): 0.02,
                                ("vanilla", 3): 0.8, ("algorithm_1", 0): 0.5,
                                ("algorithm_1", 1): 0.52, ("algorithm_1", 2): 0.49,
                                ("algorithm_1", 3): 0.9}, beta=0.01),
        _curves(task, log_ref, {("vanilla", 0): 0.99, ("vanilla", 1): 0.99, ("vanilla", 2): 0.01,
                                ("vanilla", 3): 0.96, ("algorithm_1", 0): 0.5,
                                ("algorithm_1", 1): 0.8, ("algorithm_1", 2): 0.9,
                                ("algorithm_1", 3): 0.99}, beta=0.02),
    ]
    curves = judge_checkpoints(pd.concat(frames, ignore_index=True), JUDGING, [0.01, 0.02])
    return gather(task, {"tabular": log_ref}, curves, [10], JUDGING).assign(task="one_or_two")


def test_pooled_rows_read_the_paper_as_it_states_it(task, reference):
    """'All but one vanilla run collapse' pooled over the βs and seeds: 7 of 8 collapse,
    margin 0 (holds); 'many MARA runs near 50/50 across all βs': the worst β has 1/4,
    margin 1/4 − 1/2 (fails, at β = 0.02)."""
    log_ref = task.space.log_probs(reference)
    runs = _pooled_runs(task, log_ref)
    pools = pooled(runs, [0.01, 0.02], {"rloo": "rloo"}, 0.5).set_index("method")
    assert pools.loc["vanilla", ["runs", "collapsed"]].tolist() == [8, 7]
    assert pools.loc["algorithm_1", "near_uniform_min"] == 0.25
    assert pools.loc["algorithm_1", "near_uniform_min_beta"] == 0.02
    assert pools.loc["algorithm_1", "near_uniform_by_beta"] == "0.01:3/4 0.02:1/4"
    assert pools.loc["algorithm_1", "near_uniform_short_at"] == "0.02"
    assert not pools.loc["vanilla", "target_collapsed"]
    # a pool missing one of the claim βs is not a reading of the paper's statement
    assert pooled(runs, [0.01, 0.02, 0.03], {"rloo": "rloo"}, 0.5).empty
    targets = {("one_or_two", "tabular"): {("reverse", b): log_exact_target(
        task, log_ref, "reverse", "vanilla", b) for b in (0.01, 0.02)}}
    got = margins(runs, pooled(runs, [0.01, 0.02], {"rloo": "rloo"}, 0.5), targets,
                  {("one_or_two", "tabular"): log_ref}, {"one_or_two": task},
                  JUDGING).set_index("claim")
    assert got.loc["vanilla_all_but_one_collapse_reverse_rloo", "margin"] == 0.0
    assert "7/8 collapsed" in got.loc["vanilla_all_but_one_collapse_reverse_rloo", "case"]
    assert got.loc["mara_near_uniform_all_betas_reverse_rloo", "margin"] == -0.25
    assert "below many_share at β ∈ {0.02}" in got.loc["mara_near_uniform_all_betas_reverse_rloo",
                                                       "case"]
    assert "entropy >= 0.95·log |V|" in got.loc["mara_near_uniform_all_betas_reverse_rloo",
                                                "case"]
    assert got.loc["target_keeps_reference_ratio", "margin"].abs().max() < 1e-12


def test_pools_whose_target_collapses_are_not_dynamics_rows(task, reference):
    """A reference already collapsed (favourite >= collapse_share): its vanilla pools are in
    the pooled table, flagged, but give no 'all but one' ledger row."""
    log_ref = np.log(np.exp(_log_pi(task, 0.99)) * 0.5 + np.exp(task.space.log_probs(
        reference)) * 0.5)
    log_ref -= special.logsumexp(log_ref)
    strict = dict(JUDGING, collapse_share=0.9)
    curves = judge_checkpoints(_curves(task, log_ref, {("vanilla", 0): 0.99,
                                                       ("vanilla", 1): 0.99}), strict, [0.01])
    runs = gather(task, {"tabular": log_ref}, curves, [10], strict).assign(task="one_or_two")
    assert runs["target_collapsed"].all()
    pools = pooled(runs, [0.01], {"rloo": "rloo"}, 0.5)
    assert pools["target_collapsed"].all()
    got = margins(runs, pools, {}, {}, {"one_or_two": task}, strict)
    assert not got["claim"].str.startswith("vanilla_all_but_one").any()


def test_summary_counts_the_runs(task, reference, judged):
    log_ref = task.space.log_probs(reference)
    formats = {("one_or_two", "tabular"): answer_format(task, log_ref)}
    table = summary_table(judged.assign(task="one_or_two"), formats, 0.95)
    collapsed = int(judged[judged["method"] == "vanilla"]["collapsed_final"].sum())
    assert table["collapsed_final"].tolist() == [collapsed, 0]
    assert table["top_answer_counts"].iloc[0] == "1:2 2:1"
    low, high = clopper_pearson(collapsed, 4, 0.95)
    assert table[["collapsed_low", "collapsed_high"]].iloc[0].tolist() == [low, high]
    assert table[["answer_1", "answer_2"]].iloc[0].tolist() == ["1", "2"]
    assert table["p_answer_1"].iloc[0] == formats[("one_or_two", "tabular")]["p_answer"][0]


def test_findings_render_the_counts(task, reference):
    """The fragment's numbers are those of the tables it is given: change a count, the
    sentence changes."""
    log_ref = task.space.log_probs(reference)
    runs = _pooled_runs(task, log_ref)
    formats = {("one_or_two", "tabular"): answer_format(task, log_ref)}
    pools = pooled(runs, [0.01, 0.02], {"rloo": "rloo"}, 0.5)
    summary = summary_table(runs, formats, 0.95)
    over = budget_table(runs)
    text = findings(pools, summary, over, JUDGING, [0.01, 0.02])
    assert "of the 1 pools (task, policy, dynamics, KL, budget) whose vanilla target does not "\
        "itself collapse, 1 reproduce it (at most one run of the pool not collapsed): " \
        "one_or_two (tabular, rloo, reverse KL, 10 steps)" in text
    assert "of the 1 MARA pools whose exact target is near uniform, 0 reproduce it: none" in text
    assert "the number of them short of 0.5 at each β: β = 0.02 in 1" in text
    assert "| one_or_two | tabular | rloo | reverse | 10 | 8 | 7 | 7 |" in text
    assert "| one_or_two | tabular | rloo | reverse | vanilla | 0.02 | 4/4 | 4/4 |" in text
    assert "not of the paper" in text
    fewer = pools.assign(collapsed=pools["collapsed"] - 1)
    assert "0 reproduce it (at most" in findings(fewer, summary, over, JUDGING, [0.01, 0.02])
    assert "because" not in text and "amplif" not in text  # no causal sentence


def test_budget_table_counts_only_runs_trained_to_the_longest_budget(task, reference):
    log_ref = task.space.log_probs(reference)
    shares = {("vanilla", 0): (0.99, 0.7), ("vanilla", 1): (0.6, 0.98)}
    long = _curves(task, log_ref, shares, steps=(0, 10, 20))
    short = _curves(task, log_ref, {("vanilla", 2): 0.99})  # trained 10 steps only
    curves = judge_checkpoints(pd.concat([long, short], ignore_index=True), JUDGING, [0.01])
    runs = gather(task, {"tabular": log_ref}, curves, [10, 20], JUDGING).assign(
        task="one_or_two")
    table = budget_table(runs)
    assert table[["collapsed at 10", "ever by 10", "collapsed at 20", "ever by 20"]].iloc[
        0].tolist() == ["1/2", "1/2", "1/2", "2/2"]


def test_clopper_pearson_by_hand():
    """0 of n: upper end 1 − (α/2)^(1/n); n of n: lower end (α/2)^(1/n)."""
    assert clopper_pearson(0, 10, 0.95) == pytest.approx((0.0, 1 - 0.025 ** 0.1))
    assert clopper_pearson(10, 10, 0.95) == pytest.approx((0.025 ** 0.1, 1.0))


SECTION = dict(
    tasks=[dict(ONE_OR_TWO, name="a", sweep={"validity": [0.1, 0.5], "preference": [0.9]},
                corpus=dict(size=10, smoothing=0.1, suffixes={"0": 1.0})),
           dict(ONE_OR_TWO, name="b")],
    dynamics=[{"name": "rloo", "arm": "rloo"}, {"name": "grpo", "arm": "grpo"}],
    sweeps=[{"tasks": "all", "policies": ["tabular"], "dynamics": ["rloo"], "betas": "all",
             "steps": 10},
            {"tasks": ["b"], "policies": ["tabular", "mlp"], "dynamics": ["grpo"],
             "betas": [0.1], "steps": 10},
            {"tasks": ["b"], "policies": ["tabular"], "dynamics": ["rloo"], "betas": [0.1],
             "methods": ["vanilla"], "seeds": 2, "steps": 40}],
    betas=[0.1, 1.0], regularizers=["reverse", "forward"],
    mara_algorithms={"forward": ["algorithm_2", "algorithm_1"]}, seeds=3)


def test_stage_runs_and_jobs_partition_them():
    runs = stage_runs(SECTION)
    assert {r["task"] for r in runs} == {"a_valid0.1_pref0.9", "a_valid0.5_pref0.9", "b"}
    # per task: rloo at 2 βs x (reverse: vanilla; forward: vanilla, algorithm_2, algorithm_1)
    # x 3 seeds; b adds grpo (no algorithm_2) at β = 0.1 for two policies
    assert len(runs) == 3 * 2 * 4 * 3 + 2 * 3 * 3
    grpo = [r for r in runs if r["dynamics"] == "grpo"]
    assert {r["method"] for r in grpo} == {"vanilla", "algorithm_1"}
    # the long block trains its runs once, for its steps; the others keep theirs
    long = [r for r in runs if r["steps"] == 40]
    assert len(long) == 2 * 2 and {r["seed"] for r in long} == {0, 1}
    assert {r["method"] for r in long} == {"vanilla"} and {r["beta"] for r in long} == {0.1}
    assert sum((job_runs(runs, 4, k) for k in range(4)), []) == runs
    cost = [sum(r["steps"] for r in job_runs(runs, 4, k)) for k in range(4)]
    assert max(cost) - min(cost) <= 2 * 40  # near-equal cost, not count


def test_format_task_weights():
    """The shared format: after either answer, completion with probability ``validity``, the
    same malformed continuations otherwise; the preference in the answer token."""
    spec = dict(ONE_OR_TWO, corpus=dict(size=10, smoothing=0.1, validity=0.1, preference=0.9,
                                        suffixes={"0": 3.0, "1": 1.0}))
    task = build_task("t", spec)
    space = task.space
    got = {a: task.corpus[space.index(a)] for a in ["1", "2", "10", "11", "20", "21"]}
    assert got == pytest.approx({"1": 0.09, "2": 0.01, "10": 0.9 * 0.9 * 0.75,
                                 "11": 0.9 * 0.9 * 0.25, "20": 0.1 * 0.9 * 0.75,
                                 "21": 0.1 * 0.9 * 0.25})
    assert sum(got.values()) == pytest.approx(1.0)
    (name, expanded, i), = expand_tasks([dict(spec, name="t", sweep={"validity": [0.05],
                                                           "preference": [0.99]})])
    assert (name, i) == ("t_valid0.05_pref0.99", 0)
    assert expanded["corpus"]["validity"] == 0.05 and "sweep" not in expanded


def test_expected_counts_balance_the_format():
    """With expected counts the reference's P(valid | answer) is the same after both answers
    up to the smoothing, (n_a v + α)/(n_a + W α); with no draw, no cell hangs on one."""
    spec = dict(ONE_OR_TWO, corpus=dict(size=2000, smoothing=0.05, validity=0.1,
                                        preference=0.87, counts="expected",
                                        suffixes={"0": 1.0}))
    task = build_task("t", spec)
    logits, counts = pretrain_reference(task, generator(0))
    again, _ = pretrain_reference(task, generator(1))
    assert np.array_equal(logits, again)  # no draw
    fmt = answer_format(task, task.space.log_probs(logits)).set_index("answer")
    width = task.space.shape[1]
    for answer, share in [("1", 0.87), ("2", 0.13)]:
        n = 2000 * share
        assert fmt.loc[answer, "p_valid"] == pytest.approx((n * 0.1 + 0.05) / (n + width * 0.05),
                                                           rel=1e-12)
    assert fmt.loc["1", "p_valid"] == pytest.approx(fmt.loc["2", "p_valid"], abs=1e-3)


@pytest.mark.parametrize(("change", "message"), [
    ({"suffixes": {}}, "corpus.suffixes: is missing or empty"),
    ({"suffixes": {"": 1.0}}, "corpus.suffixes: '' after '1' writes '1'"),
    ({"suffixes": {"9": 1.0}}, "corpus.suffixes: '19' is not an answer"),
    ({"counts": "mean"}, "corpus.counts: is 'mean'; expected one of"),
])
def test_bad_format_corpus_names_the_key(change, message):
    corpus = dict(size=10, smoothing=0.1, validity=0.1, preference=0.9, suffixes={"0": 1.0})
    with pytest.raises(TaskSpecError, match="^k") as err:
        build_task("t", dict(ONE_OR_TWO, corpus=dict(corpus, **change)), key="k")
    assert message in str(err.value)


def test_target_rows_flat_for_mara(task, reference):
    log_ref = task.space.log_probs(reference)
    targets = target_rows(task, log_ref, [("reverse", "vanilla", 0.01),
                                          ("forward", "algorithm_2", 0.01)], 0.25)
    assert targets.set_index("method").loc["algorithm_2", "target_valid_entropy_normalized"] \
        == pytest.approx(1.0)


def test_final_distribution_sums_to_one(task, reference):
    log_ref = task.space.log_probs(reference)
    table = final_distribution(task, log_ref, log_ref,
                               log_exact_target(task, log_ref, "reverse", "algorithm_1", 0.1))
    assert table["answer"].tolist() == ["1", "2", "malformed"]
    for column in ["trained", "reference", "target"]:
        assert table[column].sum() == pytest.approx(1.0, abs=1e-12)
