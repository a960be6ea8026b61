"""Stage policy_gradient: the runs of paper C's "1 or 2" analogue, judged and checked.

Paper C (§6.1, App. C.2, Fig. 6) trains Qwen2.5-3B to answer "1" or "2" in an XML format
(reward 1 for either in the format, 0 otherwise) and reports that all but one vanilla run
collapse to a single answer, most to "1", while MARA keeps many runs near 50/50. Our runs
are a tabular NumPy analogue, not an LLM (:mod:`bonkl.rl.trainer`). Per run, at its last
checkpoint:

- *collapsed*: one good mode (answer or plateau) holds at least ``collapse_share`` of the
  valid mass; collapse onto *any* mode counts;
- *past target*: collapsed while the run's exact target's top mode holds less than
  ``collapse_share`` (the dynamics, not the objective, did it);
- *near uniform*: valid-answer entropy at least ``near_uniform·log |V|``.

Two kinds of ledger row, kept apart. What the exact target predicts (Remark 4.3: with
equal rewards, the vanilla target keeps the reference's ratios between valid answers; the
forward-KL version is ours): margin ``−|top-mode share of T − that of π_ref|``. What the
sampled dynamics do (status ``observed``), per cell (task, dynamics, KL, method, β of the
claim βs), with counts ``k/n`` and a Clopper-Pearson interval: the paper's "all but one
vanilla run collapse" (margin ``(k − (n − 1))/n``), "MARA keeps many runs near 50/50" (we
read "many" as at least half: margin ``k/n − 1/2``), "no reward loss" (MARA's mean reward
minus vanilla's, plus ``reward_tolerance``), and ours, "vanilla collapses past its target
in most runs" (margin ``k/n − 1/2``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bonkl.plumbing.seeding import generator
from bonkl.rl.metrics import evaluate, mode_shares
from bonkl.rl.tasks import Task, expand_tasks
from bonkl.rl.trainer import Run, Training, final_distribution, log_exact_target, train
from bonkl.study.ledger import Claim

ANALOGUE = ("in our tabular NumPy analogue of the paper's LLM '1 or 2' runs (an "
            "autoregressive table of logits, not an LLM; sampled policy gradient; a cell "
            "where it differs is a finding about the analogue, not about the paper's runs)")
#: The labels of one run, in table order.
LABELS = ["task", "dynamics", "regularizer", "method", "beta", "seed"]
#: The labels of one cell, a run's labels without its seed.
CELL = ["task", "dynamics", "regularizer", "method", "beta"]

#: The stage's ledger claims, by name.
CLAIMS = {
    c.claim: c
    for c in [
        Claim(paper="C", claim="target_keeps_reference_ratio",
              statement="With equal rewards the vanilla reverse-KL target keeps the reference's "
              "ratio "
              "between valid answers at every β (Remark 4.3); checked on each task's "
              "pretrained reference: margin = −|top mode's valid share under the target − "
              "under the reference|", status="reported",
              evidence="figures/policy_gradient_final.png", tolerance=1e-9,
              source="C §4, Remark 4.3"),
        Claim(paper="C", claim="forward_target_keeps_reference_ratio",
              statement="The same for the vanilla forward-KL target β π_ref/(Λ − R) (ours: equal "
              "R give "
              "equal factors 1/(Λ − R)); margin as above", status="derived",
              evidence="figures/policy_gradient_final.png", tolerance=1e-9, source="ours"),
        Claim(paper="C", claim="vanilla_all_but_one_collapse",
              statement="All but one vanilla run collapse to a single answer (paper C §6.1, Fig. "
              "6a, "
              f"LLM runs at β ∈ {{0.001, 0.01, 0.02, 0.03}}); checked {ANALOGUE}: per cell, "
              "margin = (collapsed − (runs − 1))/runs, collapse onto any answer counting",
              status="observed", evidence="figures/policy_gradient_share.png", tolerance=0.0,
              source="C §6.1"),
        Claim(paper="C", claim="mara_near_uniform_many_runs",
              statement="MARA keeps many runs near 50/50 (paper C §6.1, Fig. 6a); checked "
              f"{ANALOGUE}: per cell, margin = fraction of runs whose valid-answer entropy "
              "is >= near_uniform·log |V|, minus 1/2 ('many' read as at least half)",
              status="observed", evidence="figures/policy_gradient_share.png", tolerance=0.0,
              source="C §6.1"),
        Claim(paper="C", claim="mara_no_reward_loss",
              statement=f"MARA costs no reward (paper C §6.1, Fig. 6b); checked {ANALOGUE}: per "
              f"cell, "
              "margin = mean final reward of MARA minus vanilla's, plus reward_tolerance",
              status="observed", evidence="figures/policy_gradient_pareto.png", tolerance=0.0,
              source="C §6.1"),
        Claim(paper="C", claim="vanilla_collapses_past_target",
              statement="Vanilla runs collapse past their exact target (ours, after issue 16's "
              "quick "
              f"experiment): {ANALOGUE}, per cell whose target's top mode holds less than "
              "collapse_share, margin = fraction of runs collapsed, minus 1/2",
              status="observed", evidence="figures/policy_gradient_gap.png", tolerance=0.0,
              source="ours"),
    ]
}


# ---------------------------------------------------------------- the run list


def stage_runs(section: Mapping) -> list[dict]:
    """Labels (:data:`LABELS`) of every run of the config ``section``, in one fixed order.

    Each task runs the first dynamics at every β; the other dynamics run on
    ``dynamics_sweep.tasks`` at ``dynamics_sweep.betas``. Methods: ``vanilla`` and the
    KL's ``mara_algorithms``.
    """
    first, *others = [d["name"] for d in section["dynamics"]]
    sweep = section["dynamics_sweep"]
    runs = []
    for task, _, _ in expand_tasks(section["tasks"]):
        settings = [(first, section["betas"])]
        if task in sweep["tasks"]:
            settings += [(name, [b for b in section["betas"] if b in sweep["betas"]])
                         for name in others]
        for dynamics, betas in settings:
            for regularizer in section["regularizers"]:
                methods = ["vanilla", *section["mara_algorithms"].get(regularizer, [])]
                runs += [dict(task=task, dynamics=dynamics, regularizer=regularizer,
                              method=method, beta=float(beta), seed=seed)
                         for method in methods for beta in betas
                         for seed in range(section["seeds"])]
    return runs


def job_runs(runs: list[dict], jobs: int, job: int) -> list[dict]:
    """The ``job``-th of ``jobs`` contiguous, near-equal slices of ``runs``."""
    bounds = np.linspace(0, len(runs), jobs + 1).round().astype(int)
    return runs[bounds[job]:bounds[job + 1]]


def train_task(task: Task, reference: np.ndarray, labelled: list[dict], dynamics: Mapping,
               training: Training, seed: int,
               figure_beta: float) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Train the runs ``labelled`` (dicts of :data:`LABELS`) of one task as one vectorised
    computation (:func:`bonkl.rl.trainer.train`), each with its own generator from ``seed``
    and its labels, against its exact target (computed once per KL, method and β).

    Returns each run's checkpoint metrics, and the final distributions of the runs at
    ``figure_beta``, as tables labelled by the run.
    """
    log_ref = task.space.log_probs(reference)
    runs = [Run(lab["regularizer"], lab["method"], lab["beta"],
                dynamics[lab["dynamics"]]["advantage"], dynamics[lab["dynamics"]]["learning_rate"])
            for lab in labelled]
    rngs = [generator(seed, "policy_gradient", *(lab[k] for k in LABELS)) for lab in labelled]
    targets = {}
    for r in runs:
        key = (r.regularizer, r.method, r.beta)
        if key not in targets:
            targets[key] = log_exact_target(task, log_ref, *key)
    log_targets = np.array([targets[(r.regularizer, r.method, r.beta)] for r in runs])
    trained = train(task, reference, runs, training, rngs, log_targets)
    curves, finals = [], []
    for k, lab in enumerate(labelled):
        curves.append(pd.DataFrame({**lab, "step": trained.steps,
                                    **{m: v[k] for m, v in trained.metrics.items()}}))
        if lab["beta"] == figure_beta:
            finals.append(pd.DataFrame({**lab, **final_distribution(
                task, trained.log_pi[k], log_ref, log_targets[k])}))
    return curves, finals


# ---------------------------------------------------------------- judging


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


def gather(task: Task, log_ref: np.ndarray, curves: pd.DataFrame, judging: Mapping) -> pd.DataFrame:
    """One row per run of ``curves`` (labels, metrics at every checkpoint): its last
    checkpoint, its judgements (module doc), the top mode's name, the reference's
    validity and favourite mode's share, and the exact target's metrics beside it."""
    last = curves[curves["step"] == curves["step"].max()].drop(columns="step")
    ref_shares = mode_shares(task, log_ref)
    runs = last.assign(
        top_answer=[task.mode_names[m] for m in last["top_mode"]],
        reference_validity=float(np.exp(log_ref)[task.good].sum()),
        reference_top_share=float(ref_shares.max()),
        reference_top_answer=task.mode_names[int(np.argmax(ref_shares))],
        collapsed=last["top_mode_share"] >= judging["collapse_share"],
        near_uniform=last["valid_entropy_normalized"] >= judging["near_uniform"],
    )
    keys = ["regularizer", "method", "beta"]
    cells = runs[keys].drop_duplicates().itertuples(index=False)
    targets = target_rows(task, log_ref, cells, judging["coverage_share"])
    runs = runs.merge(targets, on=keys, how="left")
    runs["past_target"] = runs["collapsed"] & (runs["target_top_mode_share"]
                                               < judging["collapse_share"])
    runs["target_top_answer"] = [task.mode_names[m] for m in runs["target_top_mode"]]
    return runs.reset_index(drop=True)


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval for ``k`` successes in ``n`` runs."""
    from scipy.stats import binomtest  # lazily: only the aggregate job needs it

    interval = binomtest(int(k), int(n)).proportion_ci(confidence, method="exact")
    return float(interval.low), float(interval.high)


def _count(cell: pd.DataFrame, column: str, confidence: float) -> str:
    k, n = int(cell[column].sum()), len(cell)
    low, high = clopper_pearson(k, n, confidence)
    return f"{k}/{n} {column.replace('_', ' ')} ({confidence:.0%} CI {low:.2f}-{high:.2f})"


def margins(runs: pd.DataFrame, log_refs: Mapping[str, np.ndarray],
            log_vanilla_targets: Mapping[str, Mapping], tasks: Mapping[str, Task],
            claim_betas, judging: Mapping) -> pd.DataFrame:
    """Margins of :data:`CLAIMS` (module doc).

    ``log_vanilla_targets[task][(regularizer, beta)]``: the vanilla exact targets whose
    Remark 4.3 rows are checked; ``runs`` the gathered runs of every task.
    """
    rows = []
    for name, targets in log_vanilla_targets.items():
        reference = mode_shares(tasks[name], log_refs[name]).max()
        for (regularizer, beta), log_target in targets.items():
            gap = abs(mode_shares(tasks[name], log_target).max() - reference)
            claim = ("target_keeps_reference_ratio" if regularizer == "reverse"
                     else "forward_target_keeps_reference_ratio")
            rows.append((name, claim, f"β={beta:g}", -gap))
    confidence = judging["confidence"]
    chosen = runs[runs["beta"].isin(claim_betas)]
    for (task, dynamics, regularizer, beta), cell in chosen.groupby(
            ["task", "dynamics", "regularizer", "beta"], sort=False):
        where = f"{dynamics}, {regularizer} KL, β={beta:g}"
        vanilla = cell[cell["method"] == "vanilla"]
        if len(vanilla):
            n = len(vanilla)
            rows.append((task, "vanilla_all_but_one_collapse",
                         f"{where}: {_count(vanilla, 'collapsed', confidence)}",
                         (vanilla["collapsed"].sum() - (n - 1)) / n))
            if vanilla["target_top_mode_share"].iloc[0] < judging["collapse_share"]:
                rows.append((task, "vanilla_collapses_past_target",
                             f"{where}: {_count(vanilla, 'past_target', confidence)}",
                             vanilla["past_target"].mean() - 0.5))
        for method, runs_ in cell[cell["method"] != "vanilla"].groupby("method", sort=False):
            at = f"{where}, {method}"
            rows.append((task, "mara_near_uniform_many_runs",
                         f"{at}: {_count(runs_, 'near_uniform', confidence)}",
                         runs_["near_uniform"].mean() - 0.5))
            if len(vanilla):
                gap = (runs_["mean_reward"].mean() - vanilla["mean_reward"].mean()
                       + judging["reward_tolerance"])
                rows.append((task, "mara_no_reward_loss",
                             f"{at}: mean reward {runs_['mean_reward'].mean():.4f}, vanilla "
                             f"{vanilla['mean_reward'].mean():.4f}", gap))
    return pd.DataFrame(rows, columns=["reference", "claim", "case", "margin"])


TABLE_NOTE = """
Paper C's LLM "1 or 2" experiment (§6.1) as a tabular analogue in NumPy, not an LLM: an
autoregressive table of logits pretrained on a corpus that is only partly in the answer
format, then trained by sampled policy gradient. One row per task, dynamics, KL, method and
β; metrics are seed means of the final policy (exact, not sampled). `reference_validity`:
the reference's mass on valid answers. `collapsed`: runs whose top mode (any answer) holds
>= collapse_share of the valid mass, with its Clopper-Pearson interval
(`collapsed_low`-`collapsed_high`); `top_answer_counts`: how many runs collapse onto each
answer; `past_target`: collapsed runs whose exact target does not collapse; `near_uniform`:
runs whose valid-answer entropy is >= near_uniform·log |V|. `kl_target`: KL(π ‖ T) to the
exact optimum T of the run's objective (nats); `target_*`: T's own values.
"""

SUMMARY_METRICS = ["mean_reward", "validity", "valid_entropy_normalized", "top_mode_share",
                   "kl_reference", "kl_target"]


def summary_table(runs: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per cell (:data:`CELL`): counts with intervals, seed means, and the exact target's."""
    rows = []
    for keys, cell in runs.groupby(CELL, sort=False):
        collapsed = cell[cell["collapsed"]]
        low, high = clopper_pearson(len(collapsed), len(cell), confidence)
        onto = collapsed["top_answer"].value_counts().sort_index()
        rows.append({
            **dict(zip(CELL, keys, strict=True)),
            "reference_validity": cell["reference_validity"].iloc[0],
            "runs": len(cell), "collapsed": len(collapsed),
            "collapsed_low": low, "collapsed_high": high,
            "top_answer_counts": " ".join(f"{a}:{k}" for a, k in onto.items()),
            "past_target": int(cell["past_target"].sum()),
            "near_uniform": int(cell["near_uniform"].sum()),
            **{name: cell[name].mean() for name in SUMMARY_METRICS},
            "kl_target_max": cell["kl_target"].max(),
            "target_top_mode_share": cell["target_top_mode_share"].iloc[0],
            "target_valid_entropy_normalized":
                cell["target_valid_entropy_normalized"].iloc[0],
            "target_mean_reward": cell["target_mean_reward"].iloc[0],
        })
    return pd.DataFrame(rows)
