"""The ``bonkl`` command line on real files: ``bonkl.cli.main`` in this process (stdout and
stderr captured), and as a subprocess where the shell matters (a closed pipe, the installed
script).

Until ``bonkl.sampled`` (the estimators) is in the tree, :data:`STAND_IN` is registered under
that name: an honest, small implementation of its interface (exact values on enumerated
prompts, the paper's estimator as a U-statistic elsewhere, no interval width) so that the
command line's own work (reading, columns, notes, warnings, errors, pipes) is tested. Once
the real module exists, it is used, and nothing here changes.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bonkl as bonkl_package
from bonkl import bestofn, tilt
from bonkl.plumbing.userfile import load_user_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples" / "lm_samples.csv"
REAL_SAMPLED = importlib.util.find_spec("bonkl.sampled") is not None
PER_PROMPT = ["prompt", "n", "candidates", "kl", "kl_low", "kl_high", "formula", "win_rate",
              "win_rate_low", "win_rate_high", "method"]
SUMMARY = ["n", "prompts", "kl_mean", "kl_mean_low", "kl_mean_high", "win_rate_mean"]

STAND_IN = textwrap.dedent('''
    """Test stand-in for bonkl.sampled (tests/unit/test_cli.py), used only while it is absent."""
    import numpy as np
    import pandas as pd
    from scipy import special, stats
    from bonkl import bestofn
    ESTIMATORS = {"u_statistic": "the paper's estimator averaged over every n-subset"}
    DEFAULT_ESTIMATOR = "u_statistic"
    SUM_TOLERANCE = 1e-6

    def log_seen_mass(samples):
        return samples.groupby("prompt", sort=False)["logprob"].agg(np.logaddexp.reduce)

    def _u_statistic(logprob, reward, count, n):
        order = np.argsort(reward, kind="stable")
        eps = np.repeat(np.exp(logprob[order]), count[order])
        size = eps.size
        k = np.arange(1, size + 1)
        out = []
        for m in np.minimum(n, size):
            w = np.exp(special.gammaln(k) - special.gammaln(m) - special.gammaln(k - m + 1)
                       - (special.gammaln(size + 1) - special.gammaln(m + 1)
                          - special.gammaln(size - m + 1))) * (k >= m)
            out.append(float(w @ bestofn.kl_estimator(eps, m)))
        return np.array(out)

    def analyze(samples, n, *, estimator=None, level=0.95, support="auto"):
        n = np.atleast_1d(np.asarray(n, dtype=float))
        mass = log_seen_mass(samples)
        rows = []
        for prompt, group in samples.groupby("prompt", sort=False):
            logprob, reward = group["logprob"].to_numpy(), group["reward"].to_numpy()
            count = group["count"].to_numpy()
            if mass[prompt] > np.log1p(SUM_TOLERANCE):
                raise ValueError(f"prompt {prompt!r}: seen mass above 1")
            exact = support == "enumerated" or abs(np.expm1(mass[prompt])) <= SUM_TOLERANCE
            if exact:
                p = np.exp(logprob - mass[prompt])
                kl, win = bestofn.kl(p, reward, n), bestofn.win_rate(p, reward, n)
                method = "exact" if abs(np.expm1(mass[prompt])) <= SUM_TOLERANCE \
                    else "exact-normalised"
            else:
                kl, win = _u_statistic(logprob, reward, count, n), n / (n + 1)
                method = estimator or DEFAULT_ESTIMATOR
            rows.append(pd.DataFrame({
                "prompt": prompt, "n": n.astype(np.int64), "candidates": int(count.sum()),
                "kl": kl, "kl_low": kl, "kl_high": kl, "formula": bestofn.kl_formula(n),
                "win_rate": win, "win_rate_low": win, "win_rate_high": win, "method": method}))
        return pd.concat(rows, ignore_index=True)

    def summarize(per_prompt, level=0.95):
        kept = per_prompt[per_prompt["candidates"] > 1]
        by_n = kept.groupby("n", sort=True)
        out = by_n.agg(prompts=("prompt", "size"), kl_mean=("kl", "mean"),
                       win_rate_mean=("win_rate", "mean"))
        half = stats.norm.ppf(0.5 + level / 2) * by_n["kl"].sem().fillna(0.0)
        out["kl_mean_low"], out["kl_mean_high"] = out["kl_mean"] - half, out["kl_mean"] + half
        return out.reset_index()[["n", "prompts", "kl_mean", "kl_mean_low", "kl_mean_high",
                                  "win_rate_mean"]]
''')


def launch(support: Path, prelude: str = "") -> list[str]:
    """The command that runs ``bonkl``, with the stand-in registered if needed."""
    code = textwrap.dedent(f"""
        import importlib.util, sys
        if importlib.util.find_spec("bonkl.sampled") is None:
            sys.path.insert(0, {str(support)!r})
            import bonkl, sampled_stand_in
            sys.modules["bonkl.sampled"] = bonkl.sampled = sampled_stand_in
        import bonkl.cli
        {prelude}
        sys.exit(bonkl.cli.main(sys.argv[1:]))
    """)
    return [sys.executable, "-c", code]


@pytest.fixture(scope="session")
def support(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stand_in")
    (folder / "sampled_stand_in.py").write_text(STAND_IN, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def launcher(support) -> list[str]:
    return launch(support)


@pytest.fixture(scope="module")
def cli(support):
    """``bonkl.cli``, imported with the real ``bonkl.sampled`` or, while it is absent, the
    stand-in (both removed from ``sys.modules`` afterwards)."""
    with pytest.MonkeyPatch.context() as patch:
        if not REAL_SAMPLED:
            spec = importlib.util.spec_from_file_location("bonkl.sampled",
                                                          support / "sampled_stand_in.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            patch.setitem(sys.modules, "bonkl.sampled", module)
            patch.setattr(bonkl_package, "sampled", module, raising=False)
        patch.delitem(sys.modules, "bonkl.cli", raising=False)
        yield importlib.import_module("bonkl.cli")
        sys.modules.pop("bonkl.cli", None)


@pytest.fixture
def bonkl(cli, capsys):
    """Run ``bonkl ARGS`` in this process: a CompletedProcess of the exit status and output."""
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [str(arg) for arg in args]
        try:
            code = cli.main(argv)
        except SystemExit as exit:  # argparse: --help, --version, usage errors
            code = exit.code
        out, err = capsys.readouterr()
        if check:
            assert code == 0, err
        return subprocess.CompletedProcess(argv, code, out, err)
    return run


@pytest.fixture(scope="module")
def reference():
    table = load_user_file(SAMPLES, normalize=True)
    return table["prob"].to_numpy(), table["reward"].to_numpy()


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def enumerated_and_sampled(tmp_path) -> Path:
    """Prompt 'enum' lists its whole support (masses 0.5, 0.3, 0.2); prompt 'sampled' holds
    40 draws of a diffuse model (log-probs near -60); prompt 'once' a single sample."""
    rng = np.random.default_rng(7)
    lines = [{"prompt": "enum", "completion": c, "logprob": float(np.log(p)), "reward": r}
             for c, p, r in [("a", 0.5, 0.0), ("b", 0.3, 1.0), ("c", 0.2, 2.0)]]
    lines += [{"prompt": "sampled", "completion": f"s{k}", "logprob": float(-60 + rng.normal()),
               "reward": float(rng.normal())} for k in range(40)]
    lines.append({"prompt": "once", "completion": "x", "logprob": -12.0, "reward": 1.0})
    return write(tmp_path / "mixed.jsonl", lines)


# --------------------------------------------------------------------------- exact, one prompt


def test_analyze_csv_matches_the_library(bonkl, reference):
    p, r = reference
    out = bonkl("analyze", SAMPLES, "--normalize", "--n", "1", "4", "16", "1000000",
                "--format", "csv").stdout
    table = pd.read_csv(io.StringIO(out))
    assert list(table["n"]) == [1, 4, 16, 10**6]
    n = table["n"].to_numpy(dtype=float)
    np.testing.assert_allclose(table["kl"], bestofn.kl(p, r, n), rtol=1e-15)
    np.testing.assert_allclose(table["win_rate"], bestofn.win_rate(p, r, n), rtol=1e-15)
    np.testing.assert_allclose(table["expected_estimator"],
                               bestofn.expected_kl_estimator(p, r, n), rtol=1e-15)
    assert table.loc[0, "kl"] == 0 and table.loc[0, "win_rate"] == pytest.approx(0.5)
    assert (table["kl"] <= table["kl_formula"] + 1e-12).all()
    assert (table["win_rate"] <= table["win_rate_bound"] + 1e-12).all()


def test_normalize_warns_with_the_seen_mass(bonkl):
    result = bonkl("analyze", SAMPLES, "--normalize", "--n", "2", "--format", "csv")
    seen = float(np.exp(np.logaddexp.reduce(pd.read_csv(SAMPLES)["logprob"].to_numpy())))
    assert "bonkl: warning: --normalize treats the seen completions as the whole support" \
        in result.stderr
    assert f"{seen:.3g}" in result.stderr and "warning" not in result.stdout


def test_analyze_table_and_json_formats(bonkl, reference):
    lines = bonkl("analyze", SAMPLES, "--normalize", "--n", "2", "8").stdout.splitlines()
    assert lines[0].split() == ["n", "kl", "kl_formula", "expected_estimator", "win_rate",
                                "win_rate_bound"]
    assert len(lines) == 4 and set(lines[1]) <= {"-", " "}
    records = json.loads(bonkl("analyze", SAMPLES, "--normalize", "--n", "2",
                               "--format", "json").stdout)
    assert records[0]["n"] == 2 and records[0]["kl"] == pytest.approx(
        bestofn.kl(*reference, 2), rel=1e-15)


def test_targets_rows_and_per_outcome_file(bonkl, tmp_path, reference):
    p, r = reference
    output = tmp_path / "targets.csv"
    out = bonkl("targets", SAMPLES, "--normalize", "--beta", "0.1", "2", "--delta", "0.5",
                "--format", "csv", "--output", output).stdout
    rows = pd.read_csv(io.StringIO(out)).set_index(["method", "value"])
    assert rows.loc[("reverse_kl", 0.1), "kl"] == pytest.approx(tilt.tilt_kl(p, r, 10.0),
                                                                 rel=1e-12)
    assert rows.loc[("kl_constrained", 0.5), "kl"] == pytest.approx(0.5, abs=1e-10)
    forward, lam = tilt.forward_kl_target(p, r, 2.0)
    assert rows.loc[("forward_kl", 2.0), "lagrange"] == pytest.approx(lam, rel=1e-15)
    assert rows.loc[("forward_kl", 2.0), "expected_reward"] == pytest.approx(forward @ r)
    per_outcome = pd.read_csv(output, dtype={"outcome": str})
    assert len(per_outcome) == p.size
    np.testing.assert_allclose(per_outcome["forward_kl_beta=2"], forward, rtol=1e-15)
    for column in per_outcome.columns[3:]:
        assert per_outcome[column].sum() == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- by prompt


def test_by_prompt_columns_methods_and_notes(bonkl, tmp_path):
    """Exact where the completions enumerate the support, an estimate elsewhere; a single-
    candidate prompt is named in a note; n above a prompt's candidates is warned about."""
    path = enumerated_and_sampled(tmp_path)
    result = bonkl("analyze", path, "--by", "prompt", "--n", "1", "4", "64", "--format", "csv")
    table = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert list(table.columns[:len(PER_PROMPT)]) == PER_PROMPT
    assert list(table["prompt"].unique()) == ["enum", "sampled", "once"]
    enum = table[table["prompt"] == "enum"]
    assert set(enum["method"]) == {"exact"}
    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(enum["kl"], bestofn.kl(p, r, np.array([1.0, 4, 64])),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(enum["kl_low"], enum["kl"])
    sampled_rows = table[table["prompt"] == "sampled"]
    assert "exact" not in set(sampled_rows["method"])
    assert (sampled_rows["candidates"] == 40).all()
    assert (table["kl_low"] <= table["kl"]).all() and (table["kl"] <= table["kl_high"]).all()
    assert "warning: n = 4 exceeds the candidates of 1 prompt(s) (fewest: 1, prompt " \
        "'once')" in result.stderr
    assert "warning: n = 64 exceeds the candidates of 2 prompt(s)" in result.stderr
    assert "single candidate" not in result.stderr  # no summary printed, nothing left out


def test_by_prompt_summary(bonkl, tmp_path):
    path = enumerated_and_sampled(tmp_path)
    result = bonkl("analyze", path, "--by", "prompt", "--n", "2", "8", "--summary",
                   "--format", "csv")
    summary = pd.read_csv(io.StringIO(result.stdout))
    assert "note: 1 prompt with a single candidate left out of the summary over prompts " \
        "('once')" in result.stderr
    assert list(summary.columns[:len(SUMMARY)]) == SUMMARY
    assert list(summary["n"]) == [2, 8] and (summary["prompts"] == 2).all()
    assert (summary["kl_mean_low"] <= summary["kl_mean"]).all()


def test_by_prompt_normalize_names_each_prompt(bonkl, tmp_path):
    path = enumerated_and_sampled(tmp_path)
    result = bonkl("analyze", path, "--by", "prompt", "--normalize", "--n", "4", "--format",
                   "csv")
    assert "prompt 'sampled': " in result.stderr and "prompt 'once': 6.14e-06" in result.stderr
    assert "prompt 'enum'" not in result.stderr  # its completions hold the whole mass
    table = pd.read_csv(io.StringIO(result.stdout))
    assert set(table.loc[table["prompt"] == "sampled", "method"]) == {"exact-normalised"}
    assert set(table.loc[table["prompt"] == "enum", "method"]) == {"exact"}


def test_estimator_choice_and_table_output(bonkl, tmp_path):
    path = enumerated_and_sampled(tmp_path)
    help_text = bonkl("analyze", "--help").stdout
    assert "estimators (--estimator):" in help_text
    name = help_text.split("estimators (--estimator):\n")[1].split()[0]
    out = bonkl("analyze", path, "--by", "prompt", "--n", "4", "--estimator", name).stdout
    assert out.startswith("per prompt and n:") and "over prompts, per n:" in out
    assert name in out


def test_a_vllm_file_with_format_in_and_token_rewards(bonkl, tmp_path):
    """vLLM's RequestOutput lines (see test_readers), rewards minus the token counts."""
    path = write(tmp_path / "vllm.jsonl", [{"prompt": "q", "outputs": [
        {"index": k, "text": f"answer {k}", "token_ids": list(range(k + 1)),
         "cumulative_logprob": -20.0 - k, "finish_reason": "stop"} for k in range(6)]}])
    out = bonkl("analyze", path, "--format-in", "vllm", "--by", "prompt", "--n", "2",
                "--reward", "neg-length", "--format", "csv").stdout
    table = pd.read_csv(io.StringIO(out))
    assert list(table["prompt"]) == ["q"] and list(table["candidates"]) == [6]
    assert table.loc[0, "method"] != "exact"


def test_figure_draws_each_method_with_its_interval(bonkl, tmp_path):
    path = enumerated_and_sampled(tmp_path)
    figure = tmp_path / "fig4.png"
    bonkl("analyze", path, "--by", "prompt", "--n", "1", "4", "16", "--figure", figure,
          "--format", "csv")
    assert figure.stat().st_size > 10_000 and figure.read_bytes()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- errors


BAD_RUNS = [
    (["analyze", "{broken}", "--n", "2"], "broken.csv, line 3: column 'logprob' is 'nan'"),
    (["analyze", "{partial}", "--n", "2"],
     "probabilities sum to 0.4, expected 1 within 1e-06; the file holds samples, not every "
     "outcome with its probability; `bonkl analyze FILE --by prompt --n ...` estimates"),
    (["targets", "{partial}", "--beta", "1"],
     "; the targets need every outcome of the prompt with its probability"),
    (["analyze", "{mean}", "--by", "prompt", "--n", "2"],
     "mean.csv, line 2: prompt 'p': its 2 distinct completions hold a mass of 1.48164 "
     "(Σ exp(logprob)), more than 1: no model gives these probabilities. The likely cause: "
     "per-token mean log-probs instead of their sum over the completion's tokens"),
    (["analyze", "{prompts}", "--n", "2"], "holds 2 prompts (column 'prompt'); expected one "
     "prompt (pass --by prompt for one row per prompt and n)"),
    (["analyze", "{missing}", "--n", "2"], "missing.csv: no such file"),
    (["analyze", str(SAMPLES), "--normalize", "--n", "0"], "n must be an integer from 1"),
    (["analyze", str(SAMPLES), "--n", "2", "--summary"], "--estimator need --by prompt"),
    (["targets", str(SAMPLES), "--normalize", "--beta", "-1"], "expected a finite number > 0"),
    (["targets", str(SAMPLES), "--normalize"], "the following arguments are required: --beta"),
]


@pytest.mark.parametrize(("args", "message"), BAD_RUNS, ids=[m[:40] for _, m in BAD_RUNS])
def test_bad_input_is_refused_clearly(bonkl, tmp_path, args, message):
    (tmp_path / "broken.csv").write_text("logprob,reward\n-0.1,1\nnan,2\n")
    (tmp_path / "partial.csv").write_text("prob,reward\n0.2,1\n0.2,2\n")
    (tmp_path / "mean.csv").write_text("prompt,completion,logprob,reward\np,a,-0.3,1\n"
                                       "p,b,-0.3,2\n")
    (tmp_path / "prompts.csv").write_text("prompt,prob,reward\np,1,1\nq,1,2\n")
    files = {name: tmp_path / f"{name}.csv"
             for name in ("broken", "partial", "mean", "prompts", "missing")}
    result = bonkl(*[arg.format(**files) for arg in args], check=False)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""
    assert "normalize" not in result.stderr.strip().splitlines()[-1]  # (usage lines list it)


def test_no_message_suggests_normalize_for_a_sampled_file(bonkl, tmp_path):
    path = enumerated_and_sampled(tmp_path)
    for args in (["analyze", path, "--n", "2"], ["analyze", path, "--by", "prompt", "--n", "2"],
                 ["targets", path, "--beta", "1"]):
        result = bonkl(*args, check=False)
        assert "normalize" not in result.stderr, result.stderr


# --------------------------------------------------------------------------- the shell


def test_closed_pipe_is_quiet(launcher, tmp_path):
    """``bonkl analyze ... | head -1``: no traceback, no BrokenPipeError on stderr."""
    rng = np.random.default_rng(3)
    path = write(tmp_path / "many.jsonl", [
        {"prompt": f"p{k // 20}", "completion": f"c{k}", "logprob": float(-40 - rng.random()),
         "reward": float(rng.random())} for k in range(4000)])
    command = " ".join(shlex.quote(part) for part in [*launcher, "analyze", str(path), "--by",
                                                 "prompt", "--n", *map(str, range(1, 40)),
                                                 "--format", "csv"])
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {command} | head -1"],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("prompt,n,candidates,kl,")
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_version_from_package_metadata(launcher):
    from importlib import metadata

    result = subprocess.run([*launcher, "--version"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0
    assert result.stdout.strip() == f"bonkl {metadata.version('bonkl')}"


def test_progress_on_stderr_only(bonkl, cli, tmp_path, monkeypatch):
    """A short file off a terminal shows no progress; a long one (here: the threshold set to
    0 bytes) does, on stderr; stdout is the same CSV either way."""
    path = enumerated_and_sampled(tmp_path)
    args = ["analyze", str(path), "--by", "prompt", "--n", "2", "--format", "csv"]
    quiet = bonkl(*args)
    assert quiet.stderr.count("bonkl: ") == quiet.stderr.count("bonkl: note: ") \
        + quiet.stderr.count("bonkl: warning: ")
    monkeypatch.setattr(cli, "PROGRESS_BYTES", 0)
    loud = bonkl(*args)
    assert f"bonkl: {path}: read 44 rows (rows) in " in loud.stderr
    assert "44 distinct completions of 3 prompts, checked in" in loud.stderr
    assert loud.stdout == quiet.stdout


def test_help_explains_every_column(bonkl):
    text = bonkl("analyze", "--help").stdout
    for column in PER_PROMPT + ["kl_formula", "expected_estimator", "win_rate_bound"]:
        assert column in text
    text = bonkl("targets", "--help").stdout
    for row in ["reverse_kl", "forward_kl", "kl_constrained", "expected_reward"]:
        assert f"  {row}" in text


@pytest.mark.skipif(not REAL_SAMPLED, reason="the installed script needs bonkl.sampled")
def test_console_script_is_installed():
    script = Path(sys.executable).parent / "bonkl"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "analyze" in result.stdout
