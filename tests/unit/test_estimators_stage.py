"""Stage estimators (bonkl.study.estimators): the table's statistics and the ledger margins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bonkl import reward_laws, sampled
from bonkl.plumbing.seeding import generator
from bonkl.study import estimators

GOAL = {"per_prompt_abs": 0.05, "per_prompt_rel": 0.05, "per_prompt_min_candidates": 100,
        "per_prompt_max_ratio": 16, "mean_rel": 0.03, "mean_min_prompts": 10, "mean_max_n": 16}


def test_evaluate_statistics_against_a_direct_computation():
    runs = [{"candidates": 128, "prompts": 12}]
    table = estimators.evaluate("verifier", ["plug-in"], runs, [2, 4, 200], 0.95, seed=3)
    assert list(table.columns) == estimators.COLUMNS
    assert table["n"].tolist() == [2, 4]  # n >= N left out
    model = reward_laws.MODELS["verifier"]
    draws = model.draw(generator(3, "estimators", "verifier", 128), 12 * 128)
    direct = sampled.analyze(estimators.frame_of_draws(draws, 12, 128), [2, 4],
                             support="sampled")
    truth = model.exact([2, 4])[0]
    for j, row in table.iterrows():
        got = direct[direct["n"] == row["n"]]
        err = got["kl"] - truth[j]
        assert row["bias"] == pytest.approx(err.mean(), rel=1e-12, abs=1e-15)
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(err ** 2)), rel=1e-12)
        covered = ((got["kl_low"] <= truth[j]) & (truth[j] <= got["kl_high"])).mean()
        assert row["coverage"] == pytest.approx(covered)
        assert row["coverage_low"] <= row["coverage"] <= row["coverage_high"]


def test_margins_follow_the_goal():
    row = dict(model="m", estimator=sampled.DEFAULT_ESTIMATOR, candidates=1024, n=16,
               prompts=20, exact_kl=2.0, rmse=0.08, mean_relative_error=0.01,
               coverage_high=0.97)
    other = dict(row, estimator="u-statistic", rmse=0.05)
    result = estimators.margins(pd.DataFrame([row, other]), GOAL, 0.95)
    margin = result.set_index("claim")["margin"]
    assert margin["sampled_per_prompt_accuracy"] == pytest.approx(0.1 - 0.08)
    assert margin["sampled_mean_accuracy"] == pytest.approx(0.02)
    assert margin["sampled_coverage"] == pytest.approx(0.02)
    assert margin["default_estimator_lowest_rmse"] == pytest.approx(-0.03)
    assert set(result["claim"]) <= set(estimators.CLAIMS)
