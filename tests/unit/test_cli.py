"""The ``bonkl`` command line, run as a user runs it: a subprocess on real files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bonkl import bestofn, tilt
from bonkl.plumbing.userfile import load_user_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "config" / "samples" / "lm_samples.csv"


def bonkl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "bonkl.cli", *map(str, args)],
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def reference():
    table = load_user_file(SAMPLES, normalize=True)
    return table["prob"].to_numpy(), table["reward"].to_numpy()


def test_analyze_csv_matches_the_library(reference):
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


def test_analyze_table_and_json_formats(reference):
    lines = bonkl("analyze", SAMPLES, "--normalize", "--n", "2", "8").stdout.splitlines()
    assert lines[0].split() == ["n", "kl", "kl_formula", "expected_estimator", "win_rate",
                                "win_rate_bound"]
    assert len(lines) == 4 and set(lines[1]) <= {"-", " "}
    records = json.loads(bonkl("analyze", SAMPLES, "--normalize", "--n", "2",
                               "--format", "json").stdout)
    assert records[0]["n"] == 2 and records[0]["kl"] == pytest.approx(
        bestofn.kl(*reference, 2), rel=1e-15)


def test_targets_rows_and_per_outcome_file(tmp_path, reference):
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


BAD_RUNS = [
    (["analyze", "{broken}", "--n", "2"], "broken.csv, row 2: column 'logprob' is"),
    (["analyze", "{unnormalized}", "--n", "2"], "; pass --normalize to rescale them"),
    (["analyze", "{missing}", "--n", "2"], "missing.csv: no such file"),
    (["analyze", str(SAMPLES), "--normalize", "--n", "0"], "n must be an integer from 1"),
    (["targets", str(SAMPLES), "--normalize", "--beta", "-1"], "expected a finite number > 0"),
    (["targets", str(SAMPLES), "--normalize"], "the following arguments are required: --beta"),
]


@pytest.mark.parametrize(("args", "message"), BAD_RUNS, ids=[m for _, m in BAD_RUNS])
def test_bad_input_is_refused_clearly(tmp_path, args, message):
    (tmp_path / "broken.csv").write_text("logprob,reward\n-0.1,1\nnan,2\n")
    (tmp_path / "unnormalized.csv").write_text("prob,reward\n0.2,1\n0.2,2\n")
    files = {name: tmp_path / f"{name}.csv" for name in ("broken", "unnormalized", "missing")}
    result = bonkl(*[arg.format(**files) for arg in args], check=False)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_help_explains_every_column():
    text = bonkl("analyze", "--help").stdout
    for column in ["kl ", "kl_formula", "expected_estimator", "win_rate", "win_rate_bound"]:
        assert f"  {column}" in text
    text = bonkl("targets", "--help").stdout
    for row in ["reverse_kl", "forward_kl", "kl_constrained", "expected_reward"]:
        assert f"  {row}" in text


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "bonkl"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "analyze" in result.stdout
