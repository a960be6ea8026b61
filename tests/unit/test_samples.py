"""Best-of-n per prompt of a sample file (bonkl.study.samples) and ``bonkl analyze --by prompt``.

The stage's estimates on the shipped known-law file (drawn from bonkl.reward_laws.prompt_models
by config/samples/make_known_law_samples.py, which must reproduce it) carry the models' exact
values; the findings fragment is rendered from the table. The exact analysis of an enumerated
file (``per_prompt``, used by the command line) is checked against mpmath from the file's raw
log-probabilities; the command line runs as a user runs it.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import mp_reference as mpr
import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from bonkl import reward_laws, sampled
from bonkl.cli import main
from bonkl.plumbing.userfile import Columns, ReferenceFileError, load_samples
from bonkl.study import samples as stage
from bonkl.study.samples import DIFFERS, SINGLE, TIED, per_prompt, summary

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "samples" / "known_law_prompts.csv"
N = [1, 2, 7, 100, 10**4, 10**9]

# (prompt, completion, logprob, reward): distinct rewards, ties, tiny masses, one outcome,
# and all tied; repeated completions (same log-prob) are drawn twice.
ROWS = [
    ("distinct", "a", -0.1, 0.3), ("distinct", "b", -2.5, 0.9), ("distinct", "c", -4.0, 0.5),
    ("distinct", "a", -0.1, 0.3), ("distinct", "d", -650.0, 1.0),
    ("ties", "a", -1.0, 1.0), ("ties", "b", -1.2, 1.0), ("ties", "c", -0.3, 0.0),
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


def test_per_prompt_against_mpmath(file):
    """Exact KL, expected estimator and win rate per prompt and n, with and without ties, masses
    down to e^-650, n up to 1e9; a prompt whose rewards all tie is the reference."""
    table = per_prompt(load_samples(file, normalize=True), N)
    assert list(table["prompt"].unique()) == ["distinct", "ties", "single", "all tied"]
    for prompt, rows in table.groupby("prompt", sort=False):
        p, r = mp_reference_of(prompt)
        assert (rows["outcomes"] == len(p)).all()
        with mp.workdps(60):
            entropy = -mp.fsum(x * mp.log(x) for x in p)
        assert rows["entropy"].iloc[0] == pytest.approx(float(entropy), rel=1e-12, abs=1e-300)
        assert rows["top_mass"].iloc[0] == pytest.approx(float(max(p)), rel=1e-13)
        # The KL and the estimator are sums of terms of size up to log n + log 1/min p (per unit
        # mass) that cancel towards 0 as n -> 1; doubles resolve them to ~1e-16 of that scale.
        scale = math.log(max(N)) + max(-float(mp.log(x)) for x in p)
        for _, row in rows.iterrows():
            n = row["n"]
            for column, reference in [("kl", mpr.kl), ("win_rate", mpr.win_rate),
                                      ("expected_estimator", mpr.expected_estimator)]:
                want = float(reference(p, r, n))
                if n == 1 and column != "win_rate":  # best-of-1 is the reference: exactly 0
                    assert row[column] == 0.0, (prompt, column)
                assert row[column] >= 0.0, (prompt, n, column)
                assert row[column] == pytest.approx(want, rel=1e-10, abs=1e-13 * scale), (
                    prompt, n, column)
    notes = table.groupby("prompt", sort=False)["note"].first()
    assert notes.to_dict() == {"distinct": DIFFERS, "ties": DIFFERS, "single": SINGLE,
                               "all tied": TIED}
    reference_like = table[table["prompt"].isin(["single", "all tied"])]
    assert (reference_like["kl"] == 0).all()
    assert np.allclose(reference_like["win_rate"], 0.5, rtol=0, atol=1e-15)


def test_summary_over_prompts(file):
    """Mean and quantiles per n, against NumPy on the per-prompt values."""
    table = per_prompt(load_samples(file, normalize=True), N)
    result = summary(table)
    assert list(result["n"]) == N
    for _, row in result.iterrows():
        rows = table[table["n"] == row["n"]]
        over = rows["kl_formula"] - rows["kl"]
        assert row["prompts"] == 4
        assert row["kl_mean"] == pytest.approx(rows["kl"].mean(), rel=1e-14, abs=1e-300)
        assert row["kl_q90"] == pytest.approx(np.quantile(rows["kl"], 0.9), rel=1e-14,
                                              abs=1e-300)
        assert row["overstatement_q50"] == pytest.approx(np.median(over), rel=1e-14, abs=1e-300)
        assert row["win_rate_q10"] == pytest.approx(np.quantile(rows["win_rate"], 0.1),
                                                    rel=1e-14)


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
    with pytest.raises(ReferenceFileError, match="row 1: logprob = '0.5'; expected a finite"):
        stage.read_samples(path, "reward")
    assert sampled.analyze(stage.read_samples(EXAMPLE, "loglik"), [2])["method"].eq(
        sampled.DEFAULT_ESTIMATOR).all()


# --------------------------------------------------------------------------- the command line


def bonkl(*args, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "bonkl.cli", *map(str, args)],
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


N_CLI = ["1", "4", "16", "1000000"]


@pytest.mark.parametrize("reward", ["loglik", "neg-length"])
def test_cli_on_the_example(reward):
    """A subprocess, as a user runs it: CSV rows equal the library's per-prompt table."""
    n = N_CLI
    out = bonkl("analyze", EXAMPLE, "--by", "prompt", "--normalize", "--reward", reward,
                "--n", *n, "--format", "csv").stdout
    got = pd.read_csv(io.StringIO(out), keep_default_na=False)
    want = per_prompt(load_samples(EXAMPLE, Columns(reward=reward), normalize=True),
                      list(map(int, n)))
    assert list(got.columns) == list(want.columns)
    assert list(got["prompt"]) == list(want["prompt"])
    for column in ["kl", "expected_estimator", "win_rate", "entropy", "top_mass"]:
        np.testing.assert_allclose(got[column], want[column], rtol=1e-15)
    assert (got["kl"] <= got["kl_formula"] + 1e-12).all()


def run(capsys, *args) -> tuple[int, str, str]:
    """``bonkl`` in process (faster than a subprocess): exit code, stdout, stderr."""
    code = main(list(map(str, args)))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_summary_table_and_figure(tmp_path, capsys):
    """JSON summary per n; the table prints both tables; the figure is a PNG."""
    code, out, _ = run(capsys, "analyze", EXAMPLE, "--by", "prompt", "--normalize", "--reward",
                       "loglik", "--n", *N_CLI, "--format", "json", "--summary")
    assert code == 0 and [row["n"] for row in json.loads(out)] == list(map(int, N_CLI))
    assert all(row["prompts"] == 3 for row in json.loads(out))
    figure = tmp_path / "fig4.png"
    code, out, _ = run(capsys, "analyze", EXAMPLE, "--by", "prompt", "--normalize", "--reward",
                       "loglik", "--n", *N_CLI, "--figure", figure)
    assert code == 0 and "per prompt and n:" in out and "over prompts, per n:" in out
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_column_options(tmp_path, capsys):
    """Columns named by the options."""
    path = tmp_path / "named.csv"
    path.write_text("q,text,lp,score\nA,x,-0.5,1\nA,y,-1.5,2\nB,z,-2,0\nB,w,-2,1\n")
    code, out, _ = run(capsys, "analyze", path, "--by", "prompt", "--prompt-column", "q",
                       "--completion-column", "text", "--logprob-column", "lp", "--reward",
                       "score", "--normalize", "--n", "2", "--format", "json")
    rows = json.loads(out)
    p = np.exp([-0.5, -1.5]) / np.exp([-0.5, -1.5]).sum()
    assert [row["prompt"] for row in rows] == ["A", "B"]
    assert rows[0]["kl"] == pytest.approx(float(mpr.kl(list(p), [1.0, 2.0], 2)), rel=1e-12)
    assert rows[1]["kl"] == pytest.approx(float(mpr.kl([0.5, 0.5], [0.0, 1.0], 2)), rel=1e-12)


GOOD = '{"prompt": "p", "completion": "a", "logprob": -0.1, "reward": 1}\n'
BAD_FILES = [
    ("disagreeing log-probs", GOOD + '{"prompt": "p", "completion": "a", "logprob": -0.3, '
     '"reward": 1}\n', ["s.jsonl, line 2: prompt 'p': outcome 'a' appears again with a "
                       "different log-probability", "than at line 1"]),
    ("missing column", '{"prompt": "p", "completion": "a", "logprob": -0.1}\n',
     ["s.jsonl: missing column 'reward'"]),
    ("not JSON", GOOD + "{'prompt': 'p'}\n", ["s.jsonl: line 2 is not JSON"]),
    ("not an object", GOOD + "[1, 2]\n", ["s.jsonl: line 2 is a JSON list, not an object"]),
    ("not normalised", GOOD, ["prompt 'p': probabilities sum to", "pass --normalize"]),
    ("empty prompt", GOOD + '{"prompt": " ", "completion": "a", "logprob": -0.1, "reward": 1}\n',
     ["s.jsonl, line 2: 'prompt' is blank"]),
]


@pytest.mark.parametrize(("content", "fragments"), [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_cli_bad_files(tmp_path, capsys, content, fragments):
    """Exit 2, the file, line, prompt and what was expected; no output and no figure."""
    path = tmp_path / "s.jsonl"
    path.write_text(content)
    figure = tmp_path / "never.png"
    code, out, err = run(capsys, "analyze", path, "--by", "prompt", "--n", "2", "--figure",
                         figure)
    assert code == 2 and out == "" and not figure.exists()
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_cli_several_prompts_need_by_prompt(capsys):
    code, _, err = run(capsys, "analyze", EXAMPLE, "--normalize", "--reward", "loglik", "--n",
                       "2")
    assert code == 2 and "holds 3 prompts (column 'prompt'); pass --by prompt" in err
