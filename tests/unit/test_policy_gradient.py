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
from bonkl.rl.tasks import TaskSpecError, build_task, pretrain_reference
from bonkl.rl.trainer import (
    Training,
    final_distribution,
    log_exact_target,
    rloo_advantages,
    scores,
    train,
)
from bonkl.study.policy_gradient import margins, run_row, summary_table, target_rows

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
    freq = np.bincount(space.sample(space.token_log_probs(logits), size, rng),
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
        drawn = space.sample(table, batch, rng)
        advantages = rloo_advantages(scores(task.rewards[drawn], log_pi[drawn],
                                            log_ref[drawn], beta, regularizer))
        estimates.append(space.score_gradient(table, drawn, advantages / batch).ravel())
    estimates = np.array(estimates)
    exact = _numeric_gradient(_objective(task, log_ref, task.rewards, beta, regularizer),
                              theta.ravel())
    error = estimates.mean(axis=0) - exact
    standard_error = estimates.std(axis=0) / np.sqrt(len(estimates))
    assert np.all(np.abs(error) <= 5 * standard_error + 1e-9), np.max(np.abs(error))


@pytest.mark.parametrize("regularizer", ["reverse", "forward"])
@pytest.mark.parametrize("method", ["vanilla", "mara"])
def test_exact_target_is_stationary(task, reference, regularizer, method):
    """∇J = 0 at θ = log T, J with MARA's rewards R̄ (global anchor) when method is mara."""
    beta = 0.05
    log_ref = task.space.log_probs(reference)
    rewards = task.rewards
    if method == "mara":
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
    mara_target = np.exp(log_exact_target(task, log_ref, "reverse", "mara", 0.1))
    good = mara_target[task.good]
    assert good.max() / good.min() - 1 < 1e-12  # flat over the valid answers


TRAINING = Training(steps=600, batch=32, learning_rate=0.05, eval_every=100,
                    coverage_share=0.25)


@pytest.mark.parametrize(("regularizer", "method"), [("reverse", "vanilla"),
                                                     ("forward", "vanilla"),
                                                     ("reverse", "mara")])
def test_training_reaches_the_exact_target(task, reference, regularizer, method):
    curve, _ = train(task, reference, regularizer, method, 0.1, TRAINING,
                     generator(4, regularizer, method))
    assert curve["step"].tolist() == [0, 100, 200, 300, 400, 500, 600]
    assert curve["kl_target"].iloc[-1] < 0.02 < curve["kl_target"].iloc[0]


def test_mara_makes_the_valid_answers_near_uniform(task, reference):
    vanilla, _ = train(task, reference, "reverse", "vanilla", 0.05, TRAINING,
                       generator(5, "vanilla"))
    with_mara, _ = train(task, reference, "reverse", "mara", 0.05, TRAINING,
                         generator(5, "mara"))
    assert vanilla["valid_entropy_normalized"].iloc[-1] < 0.8
    assert with_mara["valid_entropy_normalized"].iloc[-1] > 0.95


def test_training_is_deterministic_and_percentile_tau_runs(task, reference):
    training = Training(steps=40, batch=8, learning_rate=0.1, eval_every=10,
                        coverage_share=0.25, tau_percentile=75)
    first, theta1 = train(task, reference, "forward", "mara", 0.01, training,
                          generator(6, "same"))
    second, theta2 = train(task, reference, "forward", "mara", 0.01, training,
                           generator(6, "same"))
    pd.testing.assert_frame_equal(first, second)
    assert np.array_equal(theta1, theta2)


def test_adam_first_step_is_the_learning_rate_times_the_sign():
    adam = Adam((3,), 0.1)
    np.testing.assert_allclose(adam.update(np.array([2.0, -0.5, 1e-3])), [0.1, -0.1, 0.1],
                               rtol=1e-4)


# --- the study: runs judged, margins, summary ------------------------------------------

def _runs(task, reference):
    rows = []
    thresholds = {"collapse_share": 0.95, "near_uniform": 0.95}
    for method, shares in [("vanilla", [0.99, 0.97, 0.8]), ("mara", [0.5, 0.52, 0.7])]:
        for seed, share in enumerate(shares):
            log_pi = np.full(len(task.space.outcomes), -50.0)
            log_pi[task.space.index("1")] = np.log(share * 0.98)
            log_pi[task.space.index("2")] = np.log((1 - share) * 0.98)
            log_pi -= special.logsumexp(log_pi)
            metrics = evaluate(task, log_pi, log_pi, log_pi, 0.25)
            curve = pd.DataFrame([{"step": 10, **metrics}])
            rows.append(run_row(curve, dict(regularizer="reverse", method=method, beta=0.01,
                                            seed=seed), thresholds))
    return pd.DataFrame(rows)


def test_margins_count_collapsed_and_near_uniform_seeds(task, reference):
    runs = _runs(task, reference)
    assert runs["collapsed"].tolist() == [True, True, False, False, False, False]
    assert runs["near_uniform"].tolist() == [False, False, False, True, True, False]
    got = margins("one_or_two", runs, [0.01], reward_tolerance=0.01).set_index("claim")
    assert got.loc["vanilla_collapses_most_runs", "margin"] == pytest.approx(2 / 3 - 0.5)
    assert "2/3 vanilla seeds collapsed" in got.loc["vanilla_collapses_most_runs", "case"]
    assert got.loc["mara_near_uniform_most_runs", "margin"] == pytest.approx(2 / 3 - 0.5)
    assert got.loc["mara_no_reward_loss", "margin"] == pytest.approx(0.01, abs=1e-12)
    assert margins("one_or_two", runs, [0.5], 0.01).empty


def test_summary_table_and_target_rows(task, reference):
    log_ref = task.space.log_probs(reference)
    runs = _runs(task, reference)
    targets = target_rows(task, log_ref, [("reverse", "vanilla", 0.01),
                                          ("reverse", "mara", 0.01)], 0.25)
    assert targets.set_index("method").loc["mara", "target_valid_entropy_normalized"] \
        == pytest.approx(1.0)
    table = summary_table(runs.merge(targets).assign(task="one_or_two"))
    assert table[["method", "runs", "collapsed", "near_uniform"]].values.tolist() == [
        ["vanilla", 3, 2, 0], ["mara", 3, 0, 2]]


def test_final_distribution_sums_to_one(task, reference):
    log_ref = task.space.log_probs(reference)
    table = final_distribution(task, log_ref, log_ref,
                               log_exact_target(task, log_ref, "reverse", "mara", 0.1))
    assert table["answer"].tolist() == ["1", "2", "malformed"]
    for column in ["policy", "reference", "target"]:
        assert table[column].sum() == pytest.approx(1.0, abs=1e-12)
