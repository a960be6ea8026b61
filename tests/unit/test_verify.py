"""bonkl.plumbing.verify: a reproduction's tables against the committed ones, cell by cell."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest

from bonkl.plumbing.verify import compare_tables, report, verify

LEDGER = pd.DataFrame({
    "claim": ["a", "b"], "worst_margin": ["-1.2e-16", "0.5"], "holds": ["True", "True"],
    "worst_case": ["ref at n=2", "ref at n=8"], "statement": ["x | y", "z"],
})


def check(fresh: pd.DataFrame, committed: pd.DataFrame = LEDGER, rtol: float = 1e-9):
    return compare_tables(committed.astype(str), fresh.astype(str), rtol, "claims.csv")


def test_identical_tables_reproduce_exactly():
    result = check(LEDGER.copy())
    assert (result.status, result.largest, result.detail) == ("reproduced", 0.0, "")


def test_last_digit_noise_and_cancelling_values_reproduce():
    committed = pd.DataFrame({"kl": ["0.1234567890123456", "1e-17", "2.5"]})
    fresh = pd.DataFrame({"kl": ["0.1234567890123457", "-3e-17", "2.5"]})
    result = check(fresh, committed)
    assert result.status == "reproduced"
    assert 0 < result.largest  # the cancelling cell differs relatively by far more than rtol
    assert check(fresh, committed, rtol=1e-20).status == "differs"


def test_a_real_difference_names_column_row_and_values():
    committed = pd.DataFrame({"n": ["1", "2"], "kl": ["0.5", "0.75"]})
    fresh = pd.DataFrame({"n": ["1", "2"], "kl": ["0.5", "0.7500001"]})
    result = check(fresh, committed)
    assert result.status == "differs"
    assert result.detail == "column 'kl', row 2: 0.7500001 (committed 0.75)"
    assert result.largest == pytest.approx(1e-7 / 0.7500001)


def test_holds_is_compared_exactly():
    fresh = LEDGER.copy()
    fresh.loc[1, "holds"] = "False"
    result = check(fresh)
    assert result.status == "differs" and "'holds', row 2" in result.detail


def test_worst_case_may_move_only_when_its_margin_agrees():
    moved = LEDGER.copy()
    moved.loc[0, "worst_case"] = "ref at n=64"
    moved.loc[0, "worst_margin"] = "-1.2000000000001e-16"
    assert check(moved).status == "reproduced"
    moved.loc[0, "worst_margin"] = "-0.1"
    assert check(moved).status == "differs"


def test_text_columns_and_shapes():
    fresh = LEDGER.copy()
    fresh.loc[0, "statement"] = "x \\| y"
    assert "'statement', row 1" in check(fresh).detail
    assert "columns" in check(LEDGER.drop(columns="statement")).detail
    assert "1 rows, committed 2" in check(LEDGER.iloc[:1]).detail
    nan = pd.DataFrame({"v": ["nan", "inf"]})
    assert check(nan, nan).status == "reproduced"
    assert check(pd.DataFrame({"v": ["nan", "-inf"]}), nan).status == "differs"


def test_verify_against_a_git_revision_and_a_directory(tmp_path):
    repo = tmp_path / "repo"
    figures = repo / "figures"
    figures.mkdir(parents=True)
    (figures / "kl.csv").write_text("n,kl\n1,0\n2,0.30685281944005466\n")
    (figures / "gone.csv").write_text("a\n1\n")
    (figures / "kl.png").write_bytes(b"not a table")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "tables"], check=True)
    (figures / "kl.csv").write_text("n,kl\n1,0\n2,0.3068528194400547\n")
    (figures / "gone.csv").unlink()
    (figures / "extra.csv").write_text("a\n1\n")
    checks = {c.name: c for c in verify(figures)}
    assert {name: c.status for name, c in checks.items()} == {
        "kl.csv": "reproduced", "gone.csv": "missing", "extra.csv": "new"}
    assert 0 < checks["kl.csv"].largest < 1e-15
    text = report(list(checks.values()), 1e-9)
    assert text.splitlines()[-1] == ("1 of 3 tables reproduced within rtol = 1e-09 (0 cell for "
                                     "cell exactly); 0 differ, 1 missing, 1 new")
    other = tmp_path / "other"
    other.mkdir()
    (other / "kl.csv").write_text("n,kl\n1,0\n2,0.31\n")
    (other / "extra.csv").write_text("a\n1\n")
    by_dir = {c.name: c.status for c in verify(figures, str(other))}
    assert by_dir == {"kl.csv": "differs", "extra.csv": "reproduced"}
    assert np.isfinite(checks["kl.csv"].largest)
