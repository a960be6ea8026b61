"""Best-of-n from sampled candidates (bonkl.sampled) and the known-law models (bonkl.reward_laws).

The kernels against bonkl.bestofn on atomic laws and against fine discretisations of mixed
ones; the U-statistic against brute force over every n-subset; the exact situation; the
estimators against models whose exact law is known; intervals' coverage with a tolerance of
three binomial standard deviations.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from bonkl import bestofn, reward_laws, sampled


def frame(prompt, logprob, reward, count=None, completion=None) -> pd.DataFrame:
    size = len(logprob)
    return pd.DataFrame({
        "prompt": [prompt] * size,
        "completion": completion or [f"c{j}" for j in range(size)],
        "logprob": np.asarray(logprob, float), "reward": np.asarray(reward, float),
        "count": np.ones(size, np.int64) if count is None else np.asarray(count, np.int64)})


def drawn(model, rng, prompts: int, size: int) -> pd.DataFrame:
    """``prompts`` prompts of ``size`` candidates each from ``model``, as a samples frame."""
    d = model.draw(rng, prompts * size)
    raw = pd.DataFrame({"prompt": np.repeat(np.arange(prompts), size).astype(str),
                        "completion": d["key"].astype(str), "logprob": d["logprob"],
                        "reward": d["reward"]})
    return (raw.groupby(["prompt", "completion"], sort=False)
            .agg(logprob=("logprob", "first"), reward=("reward", "first"),
                 count=("reward", "size")).reset_index())


N = np.array([1, 2, 5, 40, 1000])


# ------------------------------------------------------------------------------ the kernels
def test_law_kernels_on_atoms_equal_bestofn():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(30, 0.3))
    r = rng.integers(0, 12, size=30).astype(float)  # ties
    levels, index = np.unique(r, return_inverse=True)
    atom = np.bincount(index, weights=p)
    kl, win = sampled.law_kl_and_win_rate(np.zeros(atom.size), atom, N)
    # terms of size up to log n + log 1/min p(C) cancel to the KL
    scale = math.log(N.max()) - math.log(atom.min())
    np.testing.assert_allclose(kl, bestofn.kl(p, r, N), rtol=1e-10, atol=1e-14 * scale)
    np.testing.assert_allclose(win, bestofn.win_rate(p, r, N), rtol=1e-12)


def test_law_kernels_limits():
    """No atom: the formula and n/(n+1); one top atom over a continuous rest: D̂_n(ε)."""
    kl, win = sampled.law_kl_and_win_rate([0.3, 0.7], [0.0, 0.0], N)
    np.testing.assert_allclose(kl, bestofn.kl_formula(N), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(win, N / (N + 1), rtol=1e-12)
    for eps in (1e-9, 0.3, 0.97):
        kl, _ = sampled.law_kl_and_win_rate([1 - eps, 0.0], [0.0, eps], N)
        np.testing.assert_allclose(kl, bestofn.kl_estimator(eps, N), rtol=1e-9, atol=1e-14)


def test_law_kernels_mixed_against_a_fine_discretisation():
    """An atom in the middle of continuous mass: the limit of finer and finer atoms, whose
    distance from the continuous limit shrinks like n²·(atom size) (Thm 3.4's scale)."""
    n = np.array([2, 8, 30])
    kl, win = sampled.law_kl_and_win_rate([0.25, 0.35], [0.4, 0.0], n)
    cells = 200_000
    below, above = np.full(cells, 0.25 / cells), np.full(cells, 0.35 / cells)
    p = np.r_[below, 0.4, above]
    r = np.arange(p.size, dtype=float)
    bound = 2 * n * (n - 1) * 0.35 / cells
    assert np.all(np.abs(kl - bestofn.kl(p, r, n)) <= bound)
    assert np.all(np.abs(win - bestofn.win_rate(p, r, n)) <= bound)


# ------------------------------------------------------------------------ the two situations
def test_enumerated_prompt_is_exact():
    p = np.array([0.5, 0.2, 0.2, 0.1])
    r = np.array([0.0, 1.0, 1.0, 3.0])
    table = sampled.analyze(frame("e", np.log(p), r, count=[5, 1, 2, 1]), N)
    assert (table["method"] == "exact").all()
    np.testing.assert_allclose(table["kl"], bestofn.kl(p, r, N), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(table["kl_low"], table["kl"])
    np.testing.assert_allclose(table["win_rate"], bestofn.win_rate(p, r, N), rtol=1e-12)
    assert (table["candidates"] == 9).all() and (table["distinct"] == 4).all()


def test_support_enumerated_renormalises_and_sampled_estimates():
    samples = frame("s", [-1.0, -2.0, -3.0], [0.0, 1.0, 2.0])
    p = np.exp([-1.0, -2.0, -3.0])
    table = sampled.analyze(samples, N, support="enumerated")
    assert (table["method"] == "exact-normalised").all()
    np.testing.assert_allclose(table["kl"], bestofn.kl(p / p.sum(), [0, 1, 2], N), rtol=1e-12,
                               atol=1e-15)
    assert (sampled.analyze(samples, N)["method"] == sampled.DEFAULT_ESTIMATOR).all()


def test_too_much_mass_is_refused_with_the_likely_cause():
    with pytest.raises(ValueError, match=r"prompt 'mean'.*sum to 1\.8.*per-token means"):
        sampled.analyze(frame("mean", np.log([0.9, 0.9]), [0.0, 1.0]), [2])


def test_bad_arguments():
    samples = frame("s", [-1.0], [0.0])
    for kwargs, message in [({"estimator": "nope"}, "estimator 'nope'"),
                            ({"support": "all"}, "support 'all'"), ({"level": 1.0}, "level")]:
        with pytest.raises(ValueError, match=message):
            sampled.analyze(samples, [2], **kwargs)
    with pytest.raises(ValueError, match="integers"):
        sampled.analyze(samples, [2.5])


# ------------------------------------------------------------------------------ estimators
def brute_u_statistic(logprob, reward, count, n):
    """Mean over every n-subset of the candidates of D̂_n(a) for the best's group, and of the
    win rate against each candidate left out (ties count half)."""
    logprob = np.repeat(logprob, count)
    reward = np.repeat(reward, count)
    ids = np.repeat(np.arange(len(count)), count)
    total = reward.size
    kl, win = [], []
    for subset in itertools.combinations(range(total), n):
        best = max(reward[list(subset)])
        group = reward == best
        distinct = np.unique(ids[group])
        seen = np.exp(logprob[np.searchsorted(ids, distinct)]).sum()
        atom = seen if distinct.size == 1 else max(seen, group.sum() / total)
        kl.append(bestofn.kl_estimator(atom, n))
        rest = np.setdiff1d(np.arange(total), subset)
        win.append(np.mean((best > reward[rest]) + 0.5 * (best == reward[rest])))
    return np.mean(kl), np.mean(win)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_u_statistic_against_brute_force(n):
    """Ties among distinct completions (frequency mass), repeats (exact mass), tiny masses;
    the atoms' estimates sum below 1 (above, they are rescaled)."""
    logprob = np.array([-1.5, -30.0, -31.0, -2.0, -400.0, -35.0])
    reward = np.array([1.0, 0.5, 0.5, 2.0, 3.0, 0.5])
    count = np.array([3, 1, 1, 1, 1, 1])
    table = sampled.analyze(frame("u", logprob, reward, count), [n], estimator="u-statistic")
    kl, win = brute_u_statistic(logprob, reward, count, n)
    assert table["kl"].iloc[0] == pytest.approx(kl, rel=1e-10, abs=1e-15)
    assert table["win_rate"].iloc[0] == pytest.approx(win, rel=1e-10)


def test_u_statistic_needs_n_below_the_candidates():
    table = sampled.analyze(frame("u", [-40.0, -41.0], [0.0, 1.0]), [2, 3],
                            estimator="u-statistic")
    assert table["kl"].isna().all() and (table["note"] == sampled.NOTE_U_UNDEFINED).all()


def test_plug_in_of_a_verifier_is_the_binary_law_of_its_frequencies():
    """Diverse completions sharing 0/1 rewards: atoms of the groups' frequencies."""
    reward = np.r_[np.ones(3), np.zeros(9)]
    table = sampled.analyze(frame("v", -60.0 - np.arange(12.0), reward), N)
    want = bestofn.kl([0.75, 0.25], [0.0, 1.0], N)
    np.testing.assert_allclose(table["kl"], want, rtol=1e-10, atol=1e-15)


def test_log_probs_of_minus_5000():
    """No floor: diffuse completions at e^-5000 are continuous mass (the formula, both
    estimators), and a heavy answer over such a tail gives D̂_n of its exact mass."""
    diffuse = frame("d", -5000.0 - np.arange(50.0), np.arange(50.0))
    for estimator in sampled.ESTIMATORS:
        table = sampled.analyze(diffuse, [1, 2, 16], estimator=estimator)
        np.testing.assert_allclose(table["kl"], bestofn.kl_formula([1, 2, 16]), rtol=1e-12,
                                   atol=1e-15)
        assert np.isfinite(table[["kl_low", "kl_high", "win_rate"]].to_numpy()).all()
    heavy = frame("h", np.r_[np.log(0.5), -5000.0 - np.arange(20.0)], np.r_[100.0, np.arange(20.0)],
                  count=np.r_[20, np.ones(20, int)])
    table = sampled.analyze(heavy, [2, 16])
    np.testing.assert_allclose(table["kl"], bestofn.kl_estimator(0.5, [2, 16]), rtol=1e-10)


def test_single_candidate_prompts():
    samples = pd.concat([frame("one", [-50.0], [1.0]), frame("two", [-50.0, -51.0], [1.0, 2.0])])
    table = sampled.analyze(samples, [4])
    one = table[table["prompt"] == "one"].iloc[0]
    assert one["note"] == sampled.NOTE_SINGLE
    assert one["kl_low"] == 0.0 and one["kl_high"] == pytest.approx(bestofn.kl_formula(4))
    summary = sampled.summarize(table)
    assert summary["prompts"].tolist() == [1]
    assert summary["single_candidate_prompts"].tolist() == [1]


def test_summary_t_interval_over_prompts():
    from scipy import stats
    rng = np.random.default_rng(0)
    table = sampled.analyze(drawn(reward_laws.MODELS["verifier"], rng, 12, 40), [2, 4])
    summary = sampled.summarize(table)
    for _, row in summary.iterrows():
        values = table.loc[table["n"] == row["n"], "kl"]
        low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                                     scale=stats.sem(values))
        assert row["kl_mean"] == pytest.approx(values.mean(), rel=1e-14)
        assert (row["kl_mean_low"], row["kl_mean_high"]) == pytest.approx((low, high), rel=1e-12)


def test_log_seen_mass():
    samples = pd.concat([frame("a", np.log([0.25, 0.5]), [0.0, 1.0], count=[4, 1]),
                         frame("b", [-1000.0, -1001.0], [0.0, 1.0])])
    seen = sampled.log_seen_mass(samples)
    assert seen.index.tolist() == ["a", "b"]
    assert seen["a"] == pytest.approx(math.log(0.75), rel=1e-14)
    assert seen["b"] == pytest.approx(-1000.0 + math.log1p(math.exp(-1.0)), rel=1e-14)


# --------------------------------------------------------------- against known laws
def test_plug_in_converges_as_candidates_grow():
    """Heavy answer over a continuous-score tail: the mean absolute error over prompts falls
    as N grows (n = 16)."""
    model = reward_laws.MODELS["heavy-answer-score"]
    truth = model.exact([16])[0][0]
    rng = np.random.default_rng(11)
    errors = []
    for size in (64, 1024, 8192):
        table = sampled.analyze(drawn(model, rng, 8, size), [16])
        errors.append(np.mean(np.abs(table["kl"] - truth)))
    assert errors[2] < errors[1] < errors[0]
    assert errors[2] < 0.02 * truth


@pytest.mark.parametrize("name", ["heavy-answer-score", "minus-length"])
def test_plug_in_interval_coverage(name):
    """Coverage of the 95% intervals over 300 prompts of 256 candidates at n = 4, within three
    binomial standard deviations of 0.95. (On the verifier model the jackknife covers about
    0.90: the KL's slope in the group mass varies, and the stage's table reports it.)"""
    model = reward_laws.MODELS[name]
    truth = model.exact([4])[0][0]
    table = sampled.analyze(drawn(model, np.random.default_rng(5), 300, 256), [4])
    covered = ((table["kl_low"] <= truth) & (truth <= table["kl_high"])).mean()
    sd = math.sqrt(0.95 * 0.05 / len(table))
    assert abs(covered - 0.95) <= 3 * sd, covered


def test_estimates_are_deterministic_per_prompt():
    model = reward_laws.MODELS["minus-length"]
    samples = drawn(model, np.random.default_rng(2), 5, 50)
    one = sampled.analyze(samples, [4])
    alone = sampled.analyze(samples[samples["prompt"] == "3"], [4])
    pd.testing.assert_frame_equal(one[one["prompt"] == "3"].reset_index(drop=True), alone)


# ------------------------------------------------------------------------ the models' laws
def enumerate_model(model):
    """Every completion of a small model with its exact mass and reward."""
    q = np.asarray(model.token_p)
    masses, rewards = [], []
    tail = 1 - model.heavy
    for length, pl in zip(model.lengths, model.length_p, strict=True):
        for tokens in itertools.product(range(q.size), repeat=length):
            t = np.array(tokens)
            mass = tail * pl * np.prod(q[t])
            masses.append(mass)
            linear = np.sum(np.asarray(model.token_reward)[t]) if model.token_reward else 0
            rewards.append({"neg-length": -length, "linear": linear,
                            "verifier": float(np.sum(t == 0) >= model.threshold),
                            "loglik": math.log(mass)}[model.reward])
    for a in model.answers:
        masses.append(a.mass)
        rewards.append(model._answer_reward(a))
    return np.array(masses), np.array(rewards, float)


@pytest.mark.parametrize("reward", ["neg-length", "linear", "verifier"])
def test_exact_laws_against_enumeration(reward):
    model = reward_laws.SequenceModel(
        "small", reward, (0.5, 0.3, 0.2), (1, 2, 4), (0.2, 0.5, 0.3),
        answers=(reward_laws.Answer("yes", 0.3, 2, correct=True, linear=5),),
        token_reward=(0, 1, 3), threshold=2)
    p, r = enumerate_model(model)
    kl, win = model.exact(N)
    np.testing.assert_allclose(kl, bestofn.kl(p, r, N), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(win, bestofn.win_rate(p, r, N), rtol=1e-10)


def test_loglik_law_is_the_continuous_limit():
    """Under loglik, a many-token tail is continuous up to atoms of the compositions' mass:
    enumeration agrees within n² times the largest atom."""
    model = reward_laws.SequenceModel(
        "ll", "loglik", (0.31, 0.27, 0.19, 0.13, 0.1), (7,), (1.0,),
        answers=(reward_laws.Answer("a", 0.5, 1),))
    p, r = enumerate_model(model)
    n = np.array([2, 4])
    kl, win = model.exact(n)
    levels, index = np.unique(r, return_inverse=True)
    largest = np.bincount(index, weights=p)[:-1].max()
    bound = 2 * n * (n - 1) * largest
    assert model.largest_tail_atom() == pytest.approx(largest, rel=0.5)
    assert np.all(np.abs(kl - bestofn.kl(p, r, n)) <= bound)
    assert np.all(np.abs(win - bestofn.win_rate(p, r, n)) <= bound)


def test_draws_follow_the_law():
    """The drawn rewards' frequencies match the exact atoms (chi-square-free check: each
    atom's frequency within 5 binomial sd)."""
    model = reward_laws.MODELS["minus-length"]
    continuous, atom = model.law()
    d = model.draw(np.random.default_rng(9), 20000)
    levels = np.unique(d["reward"])
    levels_all = -np.asarray(model.lengths, float)[::-1]
    freq = pd.Series(d["reward"]).value_counts(normalize=True).reindex(levels_all, fill_value=0)
    sd = np.sqrt(atom * (1 - atom) / 20000)
    assert np.all(np.abs(freq.to_numpy() - atom) <= 5 * sd + 1e-12)
    assert levels.size > 20
    assert np.all(d["logprob"] < 0)


def test_summary_leaves_out_undefined_u_statistics():
    samples = pd.concat([frame("small", [-40.0, -41.0], [0.0, 1.0]),
                         frame("large", -40.0 - np.arange(6.0), np.arange(6.0))])
    table = sampled.analyze(samples, [4], estimator="u-statistic")
    summary = sampled.summarize(table)
    assert summary["prompts"].tolist() == [1]
    assert summary["kl_mean"].iloc[0] == pytest.approx(bestofn.kl_formula(4), rel=1e-12)


def test_score_draws_follow_the_continuous_law():
    """Under a reward-model score the tail is standard normal by hash: the share of tail
    draws below the heavy answer's score is Φ(score) within 5 binomial sd, one score per
    completion."""
    from scipy import stats
    model = reward_laws.MODELS["heavy-answer-score"]
    d = model.draw(np.random.default_rng(4), 40000)
    tail = d["answer"] < 0
    share = np.mean(d["reward"][tail] < model.answers[0].score)
    want = stats.norm.cdf(model.answers[0].score)
    assert abs(share - want) <= 5 * math.sqrt(want * (1 - want) / tail.sum())
    assert abs(np.mean(~tail) - model.answers[0].mass) <= 5 * math.sqrt(0.24 / 40000)
    keys = pd.Series(d["reward"][tail]).groupby(d["key"][tail]).nunique()
    assert (keys == 1).all()
