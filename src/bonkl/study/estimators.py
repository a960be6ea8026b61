"""Stage estimators: the sampled estimators of :mod:`bonkl.sampled` against exact truth.

For each known-law model of :data:`bonkl.reward_laws.MODELS` and each run size (``N``
candidates per prompt, ``prompts`` prompts drawn independently from the model, one file), every
estimator estimates ``KL(π_n ‖ p)`` and ``W_n`` per prompt with its interval; against the
model's exact values, per (model, estimator, N, n): the bias, the RMSE and the relative RMSE
over prompts, the interval coverage with a Wilson interval on it, the relative error of the
mean over the file's prompts, and the same for the win rate. The ledger rows state the
accuracy goal of issue 22 (ours/observed) for the default estimator.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from bonkl import reward_laws, sampled
from bonkl.plumbing.seeding import generator
from bonkl.study.ledger import Claim

TABLE_NOTE = (
    "Per known-law model, estimator, candidates per prompt N and n: the exact KL(best-of-n ‖ "
    "reference) and win rate (from the model's reward law), the mean estimate, bias, RMSE "
    "and relative RMSE over the prompts, the 95% intervals' coverage with a Wilson interval, "
    "and the relative error of the mean over the file's prompts (bonkl.sampled; ours).")
#: Columns of the stage's table, one row per (model, estimator, N, n).
COLUMNS = ["model", "estimator", "candidates", "n", "prompts", "exact_kl", "formula",
           "mean_kl", "bias", "rmse", "relative_rmse", "abs_error_q95", "coverage",
           "coverage_low", "coverage_high", "mean_relative_error", "exact_win_rate",
           "win_rate_bias", "win_rate_rmse", "win_rate_coverage"]


def frame_of_draws(draws: Mapping, prompts: int, size: int) -> pd.DataFrame:
    """A samples frame (:mod:`bonkl.sampled`'s canonical columns) of ``prompts`` prompts of
    ``size`` candidates from a model's :meth:`~bonkl.reward_laws.SequenceModel.draw`; the
    completion is its 64-bit key, identical completions of a prompt counted."""
    prompt = np.repeat(np.arange(prompts), size)
    raw = pd.DataFrame({"prompt": prompt, "key": draws["key"], "logprob": draws["logprob"],
                        "reward": draws["reward"]})
    out = (raw.groupby(["prompt", "key"], sort=False)
           .agg(logprob=("logprob", "first"), reward=("reward", "first"),
                count=("reward", "size")).reset_index())
    out["prompt"] = out["prompt"].map(lambda k: f"prompt {k}")
    out["completion"] = out.pop("key").astype(str)
    return out[["prompt", "completion", "logprob", "reward", "count"]]


def _wilson(covered: int, total: int, level: float) -> tuple[float, float]:
    interval = stats.binomtest(covered, total).proportion_ci(level, method="wilson")
    return float(interval.low), float(interval.high)


def evaluate(model_name: str, estimators, runs, n_grid, level: float, seed: int) -> pd.DataFrame:
    """Rows :data:`~bonkl.study.estimators.COLUMNS` for one model: every run ``{candidates,
    prompts}``, estimator and ``n < candidates`` of ``n_grid``."""
    model = reward_laws.MODELS[model_name]
    rows = []
    for run in runs:
        size, prompts = int(run["candidates"]), int(run["prompts"])
        n = np.array([v for v in n_grid if v < size], dtype=np.int64)
        if n.size == 0:
            continue
        exact_kl, exact_win = model.exact(n)
        rng = generator(seed, "estimators", model_name, size)
        samples = frame_of_draws(model.draw(rng, prompts * size), prompts, size)
        for estimator in estimators:
            table = sampled.analyze(samples, n, estimator=estimator, level=level,
                                    support="sampled")
            for j, value in enumerate(n):
                got = table[table["n"] == value]
                kl, truth = got["kl"].to_numpy(), exact_kl[j]
                err = kl - truth
                # the interval counts as covering within the doubles' resolution of the value
                slack = 1e-12 * max(truth, 1.0)
                covered = int(np.sum((got["kl_low"] - slack <= truth)
                                     & (truth <= got["kl_high"] + slack)))
                win_covered = np.mean((got["win_rate_low"] - 1e-12 <= exact_win[j])
                                      & (exact_win[j] <= got["win_rate_high"] + 1e-12))
                low, high = _wilson(covered, len(got), level)
                rmse = float(np.sqrt(np.mean(err ** 2)))
                rows.append(dict(
                    model=model_name, estimator=estimator, candidates=size, n=int(value),
                    prompts=len(got), exact_kl=float(truth),
                    formula=float(got["formula"].iloc[0]), mean_kl=float(kl.mean()),
                    bias=float(err.mean()), rmse=rmse,
                    relative_rmse=rmse / truth if truth > 0 else 0.0,
                    abs_error_q95=float(np.quantile(np.abs(err), 0.95)),
                    coverage=covered / len(got), coverage_low=low, coverage_high=high,
                    mean_relative_error=float(abs(kl.mean() - truth) / truth) if truth > 0
                    else 0.0,
                    exact_win_rate=float(exact_win[j]),
                    win_rate_bias=float(np.mean(got["win_rate"] - exact_win[j])),
                    win_rate_rmse=float(np.sqrt(np.mean((got["win_rate"] - exact_win[j]) ** 2))),
                    win_rate_coverage=float(win_covered)))
    return pd.DataFrame(rows, columns=COLUMNS)


def margins(table: pd.DataFrame, goal: Mapping, level: float) -> pd.DataFrame:
    """Ledger margins (``reference, claim, case, margin``) of :data:`CLAIMS` for the default
    estimator (see each claim's statement); ``reference`` is the model."""
    default = table[table["estimator"] == sampled.DEFAULT_ESTIMATOR]
    out = []

    def add(claim, rows, margin):
        for (_, row), m in zip(rows.iterrows(), margin, strict=True):
            out.append(dict(reference=row["model"], claim=claim,
                            case=f"N={row['candidates']}, n={row['n']}", margin=float(m)))

    per_prompt = default[(default["candidates"] >= goal["per_prompt_min_candidates"])
                         & (default["n"] * goal["per_prompt_max_ratio"] <= default["candidates"])]
    tolerance = np.maximum(goal["per_prompt_abs"], goal["per_prompt_rel"] * per_prompt["exact_kl"])
    add("sampled_per_prompt_accuracy", per_prompt, tolerance - per_prompt["rmse"])
    mean = default[(default["prompts"] >= goal["mean_min_prompts"])
                   & (default["n"] <= goal["mean_max_n"])]
    add("sampled_mean_accuracy", mean, goal["mean_rel"] - mean["mean_relative_error"])
    add("sampled_coverage", default, default["coverage_high"] - level)
    others = table[table["estimator"] != sampled.DEFAULT_ESTIMATOR]
    if not others.empty:
        best_other = others.groupby(["model", "candidates", "n"])["rmse"].min()
        joined = default.join(best_other.rename("other_rmse"), on=["model", "candidates", "n"])
        add("default_estimator_lowest_rmse", joined, joined["other_rmse"] - joined["rmse"])
    return pd.DataFrame(out, columns=["reference", "claim", "case", "margin"])


_EVIDENCE = "figures/estimators_table.md"
#: The stage's ledger claims, by name.
CLAIMS = {c.claim: c for c in [
    Claim(paper="A", claim="sampled_per_prompt_accuracy",
          statement=("The default sampled estimator's RMSE over prompts is within "
                     "max(per_prompt_abs nats, per_prompt_rel·KL) of the exact KL for runs of at "
                     "least per_prompt_min_candidates candidates and n <= N/per_prompt_max_ratio "
                     "(estimators.goal; issue 22 asks 0.05 nats, 5%, N in the thousands, "
                     "N/16; ours, on known-law models); margin = the allowance − RMSE"),
          status="ours", evidence=_EVIDENCE, tolerance=0.0, source="ours"),
    Claim(paper="A", claim="sampled_mean_accuracy",
          statement=("The default estimator's mean over a file's prompts is within mean_rel of "
                     "the exact KL, relative, for files of at least mean_min_prompts prompts and "
                     "n <= mean_max_n (estimators.goal; issue 22 asks 3%, hundreds of prompts "
                     "of 64 candidates, n <= 16; ours); margin = mean_rel − |mean − KL|/KL"),
          status="ours", evidence=_EVIDENCE, tolerance=0.0, source="ours"),
    Claim(paper="A", claim="sampled_coverage",
          statement=("The default estimator's intervals cover the exact KL at no less than "
                     "their nominal level (estimators.level), up to the Wilson interval on the "
                     "coverage (observed); margin = Wilson upper bound − level"),
          status="observed", evidence=_EVIDENCE, tolerance=0.0, source="ours"),
    Claim(paper="A", claim="default_estimator_lowest_rmse",
          statement=("The default estimator has the lowest RMSE of the estimators on every "
                     "(model, N, n) (observed, why it is the default); margin = the others' "
                     "lowest RMSE − its RMSE"),
          status="observed", evidence=_EVIDENCE, tolerance=1e-12, source="ours"),
]}
