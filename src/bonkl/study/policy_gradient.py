"""Stage policy_gradient: a task's runs gathered, judged, and checked against paper C's claims.

Paper C reports that vanilla KL-regularised RL of an LLM asked for a random "1" or "2"
collapses to one answer in most runs and that MARA keeps the answers near 50/50 with no
loss of reward. Our runs are the scaled-down NumPy analogue (:mod:`bonkl.rl.trainer`),
so the ledger rows are *observed* counts from our experiments, whatever they show:

- a run has *collapsed* when one good mode holds at least ``collapse_share`` of the valid
  mass at the end;
- it is *near uniform* when its valid-answer entropy is at least ``near_uniform·log |V|``.

Per (task, regulariser, β) of the claim βs, over the seeds: the collapsed fraction of
vanilla runs and the near-uniform fraction of MARA runs (margin: fraction − 1/2, so the
claim holds where at least half of the seeds show it), and the difference of the mean
final rewards, MARA minus vanilla, plus ``reward_tolerance`` (margin).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bonkl.rl.metrics import evaluate
from bonkl.rl.tasks import Task
from bonkl.rl.trainer import log_exact_target
from bonkl.study.ledger import Claim

EVIDENCE = "figures/policy_gradient_pareto.png"
ANALOGUE = ("in our NumPy analogue of the paper's LLM '1 or 2' runs (a tabular "
            "autoregressive policy, sampled RLOO policy gradient)")

CLAIMS = {
    c.claim: c
    for c in [
        Claim("C", "vanilla_collapses_most_runs",
              "Vanilla KL-regularised RL collapses to one valid answer in most runs "
              f"(paper C, LLM runs at β ∈ {{0.001, 0.01, 0.02, 0.03}}); checked {ANALOGUE}: "
              "per task, regulariser and β, margin = fraction of seeds whose top mode holds "
              ">= collapse_share of the valid mass, minus 1/2", "observed", EVIDENCE, 0.0,
              "§6.1, App. C.2"),
        Claim("C", "mara_near_uniform_most_runs",
              "MARA keeps the valid answers near uniform (paper C, LLM runs); checked "
              f"{ANALOGUE}: per task, regulariser and β, margin = fraction of seeds whose "
              "valid-answer entropy is >= near_uniform·log |V|, minus 1/2", "observed",
              EVIDENCE, 0.0, "§6.1, App. C.2"),
        Claim("C", "mara_no_reward_loss",
              "MARA costs no reward (paper C, LLM runs); checked "
              f"{ANALOGUE}: per task, regulariser and β, margin = mean final reward of the "
              "MARA runs minus that of the vanilla runs, plus reward_tolerance",
              "observed", EVIDENCE, 0.0, "§6.1, App. C.2"),
    ]
}


def run_row(curve: pd.DataFrame, labels: dict, thresholds: dict) -> dict:
    """One run's final metrics, its labels, and whether it collapsed or stayed near uniform."""
    final = curve.iloc[-1].drop("step").to_dict()
    return {**labels, **final,
            "collapsed": bool(final["top_mode_share"] >= thresholds["collapse_share"]),
            "near_uniform": bool(final["valid_entropy_normalized"]
                                 >= thresholds["near_uniform"])}


def target_rows(task: Task, log_ref: np.ndarray, cells, coverage_share: float) -> pd.DataFrame:
    """Metrics of the exact target of each ``(regularizer, method, beta)`` in ``cells``."""
    rows = []
    for regularizer, method, beta in cells:
        log_target = log_exact_target(task, log_ref, regularizer, method, beta)
        metrics = evaluate(task, log_target, log_ref, log_target, coverage_share)
        rows.append({"regularizer": regularizer, "method": method, "beta": beta,
                     **{f"target_{name}": value for name, value in metrics.items()
                        if name != "kl_target"}})
    return pd.DataFrame(rows)


def gather(task: Task, log_ref: np.ndarray, labelled_curves, judging: dict) -> pd.DataFrame:
    """One :func:`run_row` per ``(labels, curve)``, with its exact target's metrics beside it."""
    runs = pd.DataFrame([run_row(curve, labels, judging) for labels, curve in labelled_curves])
    keys = ["regularizer", "method", "beta"]
    cells = runs[keys].drop_duplicates().itertuples(index=False)
    targets = target_rows(task, log_ref, cells, judging["coverage_share"])
    return runs.merge(targets, on=keys, how="left")


def _cells(runs: pd.DataFrame, claim_betas) -> pd.core.groupby.DataFrameGroupBy:
    chosen = runs[runs["beta"].isin(claim_betas)]
    return chosen.groupby(["regularizer", "beta"], sort=True)


def margins(task_name: str, runs: pd.DataFrame, claim_betas,
            reward_tolerance: float) -> pd.DataFrame:
    """Margins of :data:`CLAIMS` per (regulariser, β) of ``claim_betas`` (module doc)."""
    rows = []
    for (regularizer, beta), cell in _cells(runs, claim_betas):
        vanilla = cell[cell["method"] == "vanilla"]
        mara = cell[cell["method"] == "mara"]
        where = f"{regularizer} KL, β={beta:g}"
        if len(vanilla):
            rows.append((task_name, "vanilla_collapses_most_runs",
                         f"{where}: {int(vanilla['collapsed'].sum())}/{len(vanilla)} vanilla "
                         "seeds collapsed", vanilla["collapsed"].mean() - 0.5))
        if len(mara):
            rows.append((task_name, "mara_near_uniform_most_runs",
                         f"{where}: {int(mara['near_uniform'].sum())}/{len(mara)} MARA seeds "
                         "near uniform", mara["near_uniform"].mean() - 0.5))
        if len(vanilla) and len(mara):
            gap = mara["mean_reward"].mean() - vanilla["mean_reward"].mean() + reward_tolerance
            rows.append((task_name, "mara_no_reward_loss",
                         f"{where}: mean reward MARA {mara['mean_reward'].mean():.4f}, vanilla "
                         f"{vanilla['mean_reward'].mean():.4f}", gap))
    return pd.DataFrame(rows, columns=["reference", "claim", "case", "margin"])


TABLE_NOTE = """
Paper C's LLM "1 or 2" experiment, scaled down: a tabular autoregressive policy in NumPy
(not an LLM), pretrained on a biased corpus, trained by sampled RLOO policy gradient. One
row per task, regulariser, method and β; metrics are seed means of the final policy (exact,
not sampled). `collapsed`: seeds whose top good mode holds >= collapse_share of the valid
mass; `near_uniform`: seeds whose valid-answer entropy is >= near_uniform·log |V|
(`valid_entropy_normalized` = entropy / log |V|). `kl_target`: KL(π ‖ T) to the exact
optimum T of the run's objective (nats); `target_*`: T's own values.
"""

SUMMARY_METRICS = ["mean_reward", "validity", "valid_entropy_normalized", "top_mode_share",
                   "coverage", "kl_reference", "kl_target"]


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per task, regulariser, method and β: run counts, seed means, and the exact target's."""
    keys = ["task", "regularizer", "method", "beta"]
    grouped = runs.groupby(keys, sort=False)
    table = grouped.agg(runs=("seed", "size"), collapsed=("collapsed", "sum"),
                        near_uniform=("near_uniform", "sum"),
                        **{name: (name, "mean") for name in SUMMARY_METRICS},
                        kl_target_max=("kl_target", "max"),
                        target_valid_entropy_normalized=("target_valid_entropy_normalized",
                                                         "first"),
                        target_top_mode_share=("target_top_mode_share", "first"),
                        target_mean_reward=("target_mean_reward", "first"))
    return table.reset_index().astype({"collapsed": int, "near_uniform": int})
