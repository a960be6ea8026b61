"""Best-of-n per prompt of a sample file (bonkl.study.samples); ``bonkl analyze`` itself is
tested in test_cli.py and its readers in test_readers.py.

The stage's estimates on the shipped known-law file (drawn from bonkl.reward_laws.prompt_models
by config/samples/make_known_law_samples.py, which must reproduce it) carry the models' exact
values; the findings fragment is rendered from the table. The exact analysis of a file taken
as enumerating each prompt's support is checked against mpmath from the file's raw
log-probabilities.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import mp_reference as mpr
import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from bonkl import reward_laws, sampled
from bonkl.plumbing.userfile import ReferenceFileError, load_samples
from bonkl.study import samples as stage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "samples" / "known_law_prompts.csv"
N = [1, 2, 7, 100, 10**4, 10**9]

# (prompt, completion, logprob, reward): distinct rewards, ties, tiny masses, one outcome,
# and all tied; repeated completions (same log-prob) are drawn twice. Each prompt's seen mass
# is below 1, as a model's is (the reader refuses more).
ROWS = [
    ("distinct", "a", -0.2, 0.3), ("distinct", "b", -2.5, 0.9), ("distinct", "c", -4.0, 0.5),
    ("distinct", "a", -0.2, 0.3), ("distinct", "d", -650.0, 1.0),
    ("ties", "a", -1.6, 1.0), ("ties", "b", -1.2, 1.0), ("ties", "c", -0.9, 0.0),
    ("ties", "d", -9.0, 2.0), ("ties", "e", -9.5, 2.0), ("ties", "b", -1.2, 1.0),
    ("single", "only", -3.0, 0.1), ("single", "only", -3.0, 0.1),
    ("all tied", "x", -1.0, 0.5), ("all tied", "y", -2.0, 0.5),
]


@pytest.fixture(scope="module")
def file(tmp_path_factory):
    path = tmp_path_factory.mktemp("samples") / "s.jsonl"
    path.write_text("".join(json.dumps(dict(zip(["prompt", "completion", "logprob", "reward"],
                                                row, strict=True))) + "\n" for row in ROWS))
    return path


def mp_reference_of(prompt: str):
    """The prompt's distinct outcomes as mpmath masses from the raw log-probs, and rewards."""
    seen = {}
    for q, completion, logprob, reward in ROWS:
        if q == prompt:
            seen.setdefault(completion, (logprob, reward))
    with mp.workdps(400):
        weights = [mp.exp(mp.mpf(lp)) for lp, _ in seen.values()]
        total = mp.fsum(weights)
        p = [w / total for w in weights]
    return p, [r for _, r in seen.values()]


def test_enumerated_prompts_against_mpmath(file):
    """Each prompt's seen completions taken as its whole support (``support="enumerated"``,
    ``bonkl analyze --normalize``): exact KL and win rate per prompt and n, with and without
    ties, masses down to e^-650, n up to 1e9, against mpmath from the raw log-probs; a prompt
    whose rewards all tie is the reference."""
    table = sampled.analyze(load_samples(file), N, support="enumerated")
    assert list(table["prompt"].unique()) == ["distinct", "ties", "single", "all tied"]
    assert set(table["method"]) == {"exact-normalised"}
    for prompt, rows in table.groupby("prompt", sort=False):
        p, r = mp_reference_of(prompt)
        # The KL is a sum of terms of size up to log n + log 1/min p (per unit mass) that
        # cancel towards 0 as n -> 1; doubles resolve them to ~1e-16 of that scale.
        scale = math.log(max(N)) + max(-float(mp.log(x)) for x in p)
        for _, row in rows.iterrows():
            n = row["n"]
            for column, reference in [("kl", mpr.kl), ("win_rate", mpr.win_rate)]:
                want = float(reference(p, r, n))
                if n == 1 and column == "kl":  # best-of-1 is the reference: exactly 0
                    assert row[column] == 0.0, prompt
                assert row[column] >= 0.0, (prompt, n, column)
                assert row[column] == pytest.approx(want, rel=1e-10, abs=1e-13 * scale), (
                    prompt, n, column)
                assert row[f"{column}_low"] == row[column] == row[f"{column}_high"]
    reference_like = table[table["prompt"].isin(["single", "all tied"])]
    assert (reference_like["kl"] == 0).all()
    assert np.allclose(reference_like["win_rate"], 0.5, rtol=0, atol=1e-15)


def test_summary_over_prompts(file):
    """The mean over prompts per n, against NumPy on the per-prompt values."""
    table = sampled.analyze(load_samples(file), N, support="enumerated")
    result = sampled.summarize(table)
    assert list(result["n"]) == N
    kept = table[table["candidates"] > 1]
    for _, row in result.iterrows():
        rows = kept[kept["n"] == row["n"]]
        assert row["prompts"] == rows["prompt"].nunique() == 4  # "single" was drawn twice
        assert row["kl_mean"] == pytest.approx(rows["kl"].mean(), rel=1e-14, abs=1e-300)
        assert row["win_rate_mean"] == pytest.approx(rows["win_rate"].mean(), rel=1e-14)
        assert row["kl_mean_low"] <= row["kl_mean"] <= row["kl_mean_high"]


# ------------------------------------------------------------ the stage on the known-law file
def test_committed_file_is_the_scripts_draw():
    """config/samples/make_known_law_samples.py reproduces the committed file."""
    script = ROOT / "config" / "samples" / "make_known_law_samples.py"
    namespace = {}
    exec(compile(script.read_text().split("if __name__")[0], str(script), "exec"), namespace)
    drawn = stage.draw_known_law_file(namespace["CANDIDATES"], namespace["SEED"])
    committed = pd.read_csv(EXAMPLE, keep_default_na=False, dtype={"completion": str})
    pd.testing.assert_frame_equal(drawn, committed, check_dtype=False, rtol=1e-15)


@pytest.mark.parametrize("reward", stage.COMPUTED_REWARDS)
def test_estimates_carry_the_models_exact_values(reward):
    samples = stage.read_samples(EXAMPLE, reward)
    table = stage.estimate(samples, [1, 4, 32], ["plug-in", "u-statistic"],
                           known_law="fig4", reward=reward)
    models = reward_laws.prompt_models(reward)
    assert list(table["prompt"].unique()) == list(models)
    for prompt, model in models.items():
        rows = table[(table["prompt"] == prompt) & (table["estimator"] == "plug-in")]
        kl, win = model.exact([1, 4, 32])
        np.testing.assert_allclose(rows["exact_kl"], kl, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(rows["exact_win_rate"], win, rtol=1e-14)
        # the default estimate is within max(0.05, 5%) at n <= N/16 on this file
        assert np.all(np.abs(rows["kl"] - kl) <= np.maximum(0.05, 0.05 * kl)), prompt
    assert set(table["method"]) == {"plug-in", "u-statistic"}
    assert table["trusted"].tolist() == (table["n"] * 16 <= table["candidates"]).tolist()
    assert (table["candidates"] == 1024).all()
    summary_table = stage.estimate_summary(table)
    assert set(summary_table["estimator"]) == {"plug-in", "u-statistic"}
    np.testing.assert_allclose(
        summary_table.loc[summary_table["estimator"] == "plug-in", "exact_kl_mean"],
        table[table["estimator"] == "plug-in"].groupby("n")["exact_kl"].mean(), rtol=1e-14)


def test_estimates_without_a_known_law_have_no_truth():
    samples = stage.read_samples(EXAMPLE, "loglik")
    table = stage.estimate(samples, [2], ["plug-in"])
    assert list(table.columns) == stage.ESTIMATES
    with pytest.raises(ValueError, match="not one of its prompts"):
        stage.estimate(samples.replace({"prompt": {samples["prompt"].iloc[0]: "another"}}),
                       [2], ["plug-in"],
                       known_law="fig4", reward="loglik")


def test_findings_are_rendered_from_the_table():
    parts = []
    for reward in stage.COMPUTED_REWARDS:
        table = stage.estimate(stage.read_samples(EXAMPLE, reward), [1, 2, 8, 64, 512],
                               ["plug-in"], known_law="fig4", reward=reward)
        parts.append(table.assign(reward=reward))
    table = pd.concat(parts, ignore_index=True)
    text = stage.findings(table, "file.csv")
    row = table[(table["reward"] == "loglik") & (table["n"] == 64)].iloc[0]
    assert f"n = 64: estimate {row['kl']:.3f} [{row['kl_low']:.3f}, {row['kl_high']:.3f}]" in text
    assert f"exact {row['exact_kl']:.3f}" in text
    assert "n = 512" not in text  # beyond N/16
    trusted = table[table["trusted"]]
    covered = ((trusted["kl_low"] <= trusted["exact_kl"] + 1e-12)
               & (trusted["exact_kl"] - 1e-12 <= trusted["kl_high"])).sum()
    assert f"in {covered} of {len(trusted)} " in text


def test_read_samples_counts_and_refusals(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("prompt,completion,logprob,num_tokens\nq,a,-1.5,3\nq,a,-1.5,3\nq,b,-80,9\n")
    frame = stage.read_samples(path, "neg-length")
    assert frame.to_dict("list") == {"prompt": ["q", "q"], "completion": ["a", "b"],
                                     "logprob": [-1.5, -80.0], "reward": [-3.0, -9.0],
                                     "count": [2, 1]}
    with pytest.raises(ReferenceFileError, match="missing column 'score'"):
        stage.read_samples(path, "score")
    path.write_text("prompt,completion,logprob,reward\nq,a,0.5,1\n")
    with pytest.raises(ReferenceFileError, match="line 2: 'logprob' is 0.5; expected a log-prob"):
        stage.read_samples(path, "reward")
    assert sampled.analyze(stage.read_samples(EXAMPLE, "loglik"), [2])["method"].eq(
        sampled.DEFAULT_ESTIMATOR).all()
