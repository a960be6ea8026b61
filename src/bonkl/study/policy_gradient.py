"""Stage policy_gradient: the runs of paper C's "1 or 2" analogue, judged and checked.

Paper C (§6.1, App. C.2, Fig. 6) trains Qwen2.5-3B to answer "1" or "2" in an XML format
(reward 1 for either in the format, 0 otherwise). Pooled over β ∈ {0.001, 0.01, 0.02, 0.03}
and seeds, it reports that all but one vanilla run collapse to a single answer, and that
MARA keeps many runs near 50/50 under both KLs at every β. Our runs are a NumPy analogue,
not an LLM (:mod:`bonkl.rl.trainer`): a tabular or a shared-parameter policy
(:mod:`bonkl.rl.policies`), three named arms, Adam or SGD. A run is judged at every
checkpoint, and the run table has one row per run and step *budget* (``steps``; a run
trained longer contains its shorter budgets as prefixes, the same numbers a run stopped
there gives):

- *collapsed*: one good mode (answer or plateau) holds at least ``collapse_share`` of the
  valid mass; collapse onto *any* mode counts; ``collapsed_final`` at the budget,
  ``collapsed_ever`` at some checkpoint after step 0 up to it;
- *past target*: collapsed while the run's exact target's top mode holds less than
  ``collapse_share`` (the dynamics, not the objective, did it);
- *near uniform*: valid-answer entropy at least ``near_uniform·log |V|``.

Two kinds of ledger row, kept apart. What the exact target predicts (Remark 4.3: with
equal rewards, the vanilla target keeps the reference's ratios between valid answers; the
forward-KL version is ours): margin ``−|top-mode share of T − that of π_ref|``. What the
sampled dynamics do (status ``observed``), read as the paper states it: *pooled* over the
paper's βs (``claim_betas``) and seeds, per task, policy, dynamics, KL and budget, with
counts ``k/n`` and a Clopper-Pearson interval. "All but one vanilla run collapse" (one
claim per KL and arm; margin ``(k − (n − 1))/n``) only on pools whose vanilla target does
not collapse at any of those βs (otherwise the target, not the dynamics, predicts it); "many
MARA runs near 50/50 across all βs" (one claim per KL and arm; margin ``min_β k_β/n_β −
many_share``, ``many_share`` the config's reading of "many"); "no reward loss"; ours,
"vanilla collapses past its target". A failing dynamics row is a failure of the analogue's
dynamics (the paper's trainer is unknown), never of the paper.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bonkl.plumbing.seeding import generator
from bonkl.rl.metrics import evaluate, mode_shares
from bonkl.rl.policies import MLPPolicy, build_policy, stack
from bonkl.rl.tasks import Task, expand_tasks
from bonkl.rl.trainer import (
    ARM_METHODS,
    ARMS,
    REGULARIZERS,
    Run,
    Training,
    final_distribution,
    log_exact_target,
    train,
)
from bonkl.study.ledger import Claim

ANALOGUE = ("in our NumPy analogue of the paper's LLM '1 or 2' runs (an autoregressive "
            "table of logits or a small shared network, not an LLM; sampled policy gradient; "
            "a failing case is a failure of the analogue's dynamics, not of the paper)")
#: The labels of one run, in table order.
LABELS = ["task", "policy", "dynamics", "regularizer", "method", "beta", "seed"]
#: The labels of one cell, a run's labels without its seed and with the step budget.
CELL = ["task", "policy", "dynamics", "regularizer", "method", "beta", "steps"]
#: The labels of one pool of the paper's statements, a cell without its β.
POOL = ["task", "policy", "dynamics", "regularizer", "steps"]


def _pooled_claims() -> list[Claim]:
    claims = []
    for regularizer in REGULARIZERS:
        for arm in ARMS:
            where = f"{regularizer} KL, arm {arm}"
            claims.append(Claim(
                paper="C", claim=f"vanilla_all_but_one_collapse_{regularizer}_{arm}",
                statement=("Across the paper's β values and seeds, all but one vanilla run "
                           "collapse into a single answer (paper C §6.1, a pooled statement); "
                           f"checked {ANALOGUE}, {where}: per pool of the βs "
                           "{0.001, 0.01, 0.02, 0.03} and seeds (task, policy, dynamics, "
                           "budget) whose vanilla target does not collapse, margin = "
                           "(collapsed − (runs − 1))/runs, collapse onto any answer counting"),
                status="observed", evidence="figures/policy_gradient_share.png",
                tolerance=0.0, source="C §6.1"))
            claims.append(Claim(
                paper="C", claim=f"mara_near_uniform_all_betas_{regularizer}_{arm}",
                statement=("Many MARA runs learn '1' and '2' with near-uniform probability, "
                           "measured by valid-answer entropy, for both KLs across all tested β "
                           f"(paper C §6.1, Fig. 6a); checked {ANALOGUE}, {where}: per pool "
                           "and MARA algorithm whose exact target is near uniform at every β, a "
                           "run is near uniform when its valid-answer "
                           "entropy is >= judging.near_uniform·log |V| (the case gives the "
                           "value), and margin = min over the βs {0.001, 0.01, 0.02, 0.03} of "
                           "the near-uniform fraction, minus judging.many_share"),
                status="observed", evidence="figures/policy_gradient_entropy.png",
                tolerance=0.0, source="C §6.1"))
    return claims


#: The stage's ledger claims, by name.
CLAIMS = {
    c.claim: c
    for c in [
        Claim(paper="C", claim="target_keeps_reference_ratio",
              statement="With equal rewards the vanilla reverse-KL target keeps the reference's "
              "ratio between valid answers at every β (Remark 4.3); a row about the exact "
              "target, not the dynamics, checked on each task's pretrained reference (each "
              "policy kind): margin = −|top mode's valid share under the target − under the "
              "reference|", status="reported", evidence="figures/policy_gradient_final.png",
              tolerance=1e-9, source="C §4, Remark 4.3"),
        Claim(paper="C", claim="forward_target_keeps_reference_ratio",
              statement="The same for the vanilla forward-KL target β π_ref/(Λ − R) (the paper's "
              "too by a secondary transcription, App. B.3 fn. 1: equal R give equal factors "
              "1/(Λ − R)); margin as above", status="reported",
              evidence="figures/policy_gradient_final.png", tolerance=1e-9,
              source="App. B.3 fn. 1 (secondary)"),
        *_pooled_claims(),
        Claim(paper="C", claim="mara_no_reward_loss",
              statement=f"MARA costs no reward (paper C §6.1, Fig. 6b); checked {ANALOGUE}: per "
              "pool and MARA algorithm, margin = mean final reward of MARA minus vanilla's, "
              "plus reward_tolerance", status="observed",
              evidence="figures/policy_gradient_pareto.png", tolerance=0.0, source="C §6.1"),
        Claim(paper="C", claim="vanilla_collapses_past_target",
              statement="Vanilla runs collapse past their exact target (ours): "
              f"{ANALOGUE}, per pool whose target's top mode holds less than collapse_share at "
              "every β of the pool, margin = fraction of runs collapsed, minus 1/2",
              status="observed", evidence="figures/policy_gradient_gap.png", tolerance=0.0,
              source="ours"),
    ]
}


# ---------------------------------------------------------------- the run list


def _listed(value, everything: list) -> list:
    """``everything`` for ``"all"``, else the listed values."""
    return list(everything) if value == "all" else list(value)


def stage_runs(section: Mapping) -> list[dict]:
    """Labels (:data:`LABELS`) and trained ``steps`` of every run of the config ``section``.

    The runs are the union of the ``sweeps`` blocks (each: tasks, policies, dynamics,
    betas, optional methods, and the steps to train), in one fixed order; methods are
    ``vanilla`` and the KL's ``mara_algorithms`` that the dynamics' arm runs
    (:data:`bonkl.rl.trainer.ARM_METHODS`). A run listed by several blocks trains once, for
    the longest of their steps.
    """
    tasks = [name for name, _, _ in expand_tasks(section["tasks"])]
    arms = {d["name"]: d["arm"] for d in section["dynamics"]}
    runs: dict[tuple, dict] = {}
    for block in section["sweeps"]:
        for task in _listed(block["tasks"], tasks):
            for policy in block["policies"]:
                for dynamics in block["dynamics"]:
                    for regularizer in section["regularizers"]:
                        methods = ["vanilla", *section["mara_algorithms"].get(regularizer, [])]
                        methods = [m for m in methods if m in ARM_METHODS[arms[dynamics]]
                                   and m in block.get("methods", methods)]
                        for method in methods:
                            for beta in _listed(block["betas"], section["betas"]):
                                for seed in range(block.get("seeds", section["seeds"])):
                                    labels = dict(task=task, policy=policy, dynamics=dynamics,
                                                  regularizer=regularizer, method=method,
                                                  beta=float(beta), seed=seed)
                                    key = tuple(labels.values())
                                    steps = max(block["steps"], runs.get(key, {}).get("steps", 0))
                                    runs[key] = dict(labels, steps=steps)
    return list(runs.values())


def job_runs(runs: list[dict], jobs: int, job: int) -> list[dict]:
    """The ``job``-th of ``jobs`` contiguous slices of ``runs`` of near-equal training cost
    (the sum of their steps)."""
    cost = np.cumsum([0, *(r["steps"] for r in runs)])
    bounds = np.searchsorted(cost, np.linspace(0, cost[-1], jobs + 1), side="left")
    bounds[0], bounds[-1] = 0, len(runs)
    return runs[bounds[job]:bounds[job + 1]]


def reference_params(task: Task, kind: str, tabular_logits: np.ndarray, transitions,
                     mlp: Mapping, seed: int):
    """``(policy, parameters)`` of the reference of policy ``kind``: the tabular fit itself,
    or the :class:`~bonkl.rl.policies.MLPPolicy` pretrained on the same corpus' transition
    counts from its own generator (deterministic)."""
    policy = build_policy(kind, task.space, mlp)
    if isinstance(policy, MLPPolicy):
        rng = generator(seed, "policy_gradient", "mlp_reference", task.name)
        return policy, policy.pretrain(transitions, task.smoothing, rng, mlp["init_scale"],
                                       mlp["pretrain_steps"], mlp["pretrain_learning_rate"])
    return policy, np.asarray(tabular_logits, float)


def reference_log_probs(policy, params) -> np.ndarray:
    """``log π_ref`` of every outcome of the policy's space at ``params``."""
    space = policy.space
    return space.path_log_probs(space.token_log_probs(
        policy.logits(stack(params if isinstance(params, list) else [params], 1))[0]))[0]


def train_task(task: Task, references: Mapping, labelled: list[dict], dynamics: Mapping,
               training: Mapping, seed: int) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Train the runs ``labelled`` (dicts of :data:`LABELS` and ``steps``) of one task, one
    vectorised computation (:func:`bonkl.rl.trainer.train`) per policy kind and step count,
    each run with its own generator from ``seed`` and its labels (not its steps), against its
    exact target (computed once per policy, KL, method and β).

    ``references[kind]``: ``(policy, parameters)`` (:func:`reference_params`);
    ``training``: :class:`~bonkl.rl.trainer.Training`'s fields but ``steps``. Returns each
    run's checkpoint metrics, and each run's final distribution, as tables labelled by the
    run.
    """
    curves, finals = [], []
    groups = {}
    for lab in labelled:
        groups.setdefault((lab["policy"], lab["steps"]), []).append(lab)
    for (kind, steps), group in groups.items():
        policy, params = references[kind]
        log_ref = reference_log_probs(policy, params)
        runs = [Run(regularizer=lab["regularizer"], method=lab["method"], beta=lab["beta"],
                    arm=dynamics[lab["dynamics"]]["arm"],
                    learning_rate=dynamics[lab["dynamics"]]["learning_rate"],
                    optimizer=dynamics[lab["dynamics"]]["optimizer"]) for lab in group]
        rngs = [generator(seed, "policy_gradient", *(lab[k] for k in LABELS)) for lab in group]
        targets = {}
        for r in runs:
            key = (r.regularizer, r.method, r.beta)
            if key not in targets:
                targets[key] = log_exact_target(task, log_ref, *key)
        log_targets = np.array([targets[(r.regularizer, r.method, r.beta)] for r in runs])
        trained = train(task, params, runs, Training(steps=steps, **training), rngs,
                        log_targets, policy=policy)
        for k, lab in enumerate(group):
            curves.append(pd.DataFrame({**lab, "step": trained.steps,
                                        **{m: v[k] for m, v in trained.metrics.items()}}))
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


def judge_checkpoints(curves: pd.DataFrame, judging: Mapping, claim_betas) -> pd.DataFrame:
    """``curves`` with ``collapsed`` and ``near_uniform`` at every checkpoint (module doc),
    the thresholds that judged them (``collapse_share``, ``near_uniform_threshold``) and
    ``paper_beta``, whether the run's β is one of ``claim_betas``."""
    return curves.assign(
        collapsed=curves["top_mode_share"] >= judging["collapse_share"],
        near_uniform=curves["valid_entropy_normalized"] >= judging["near_uniform"],
        collapse_share=judging["collapse_share"],
        near_uniform_threshold=judging["near_uniform"],
        paper_beta=curves["beta"].isin(claim_betas))


def gather(task: Task, log_refs: Mapping[str, np.ndarray], judged: pd.DataFrame,
           budgets, judging: Mapping) -> pd.DataFrame:
    """One row per run of ``judged`` (labels, metrics at every checkpoint,
    :func:`judge_checkpoints`) and step budget
    of ``budgets`` it reached (column ``steps``): its metrics at that checkpoint, its
    judgements (module doc), the steps it trained (``trained_steps``), the top mode's name,
    its share of the reference's and of the target's top mode, the reference's validity and
    favourite, and the exact target's metrics beside it (``target_collapsed``: the target's
    top mode holds ``collapse_share``; ``target_near_uniform``: its valid-answer entropy
    reaches ``near_uniform``). ``log_refs[policy]``: the reference of each policy kind."""
    keys = [k for k in LABELS if k != "task"]
    judged = judged.rename(columns={"steps": "trained_steps"})
    rows = []
    for budget in budgets:
        reached = judged[judged["trained_steps"] >= budget]
        upto = reached[(reached["step"] <= budget) & (reached["step"] > 0)]
        ever = upto.groupby(keys, sort=False)["collapsed"].any().rename("collapsed_ever")
        last = reached[reached["step"] == budget].drop(columns="step")
        rows.append(last.join(ever, on=keys).assign(steps=budget)
                    .rename(columns={"collapsed": "collapsed_final"}))
    runs = pd.concat(rows, ignore_index=True)
    parts = []
    for kind, part in runs.groupby("policy", sort=False):
        log_ref = log_refs[kind]
        ref_shares = mode_shares(task, log_ref)
        favourite = int(np.argmax(ref_shares))
        cells = part[["regularizer", "method", "beta"]].drop_duplicates().itertuples(index=False)
        targets = target_rows(task, log_ref, cells, judging["coverage_share"])
        shares = {}
        for regularizer, method, beta in targets[["regularizer", "method", "beta"]].itertuples(
                index=False):
            shares[(regularizer, method, beta)] = mode_shares(
                task, log_exact_target(task, log_ref, regularizer, method, beta))
        part = part.merge(targets, on=["regularizer", "method", "beta"], how="left")
        parts.append(part.assign(
            top_answer=[task.mode_names[m] for m in part["top_mode"]],
            reference_validity=float(np.exp(log_ref)[task.good].sum()),
            reference_top_share=float(ref_shares.max()),
            reference_top_answer=task.mode_names[favourite],
            target_top_answer=[task.mode_names[m] for m in part["target_top_mode"]],
            target_collapsed=part["target_top_mode_share"] >= judging["collapse_share"],
            target_near_uniform=(part["target_valid_entropy_normalized"]
                                 >= judging["near_uniform"])))
    runs = pd.concat(parts, ignore_index=True)
    runs["past_target"] = runs["collapsed_final"] & ~runs["target_collapsed"]
    return runs


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Exact binomial (Clopper-Pearson) interval for ``k`` successes in ``n`` runs."""
    from scipy.stats import binomtest  # lazily: only the aggregate job needs it

    interval = binomtest(int(k), int(n)).proportion_ci(confidence, method="exact")
    return float(interval.low), float(interval.high)


def _count(k: int, n: int, what: str, confidence: float) -> str:
    low, high = clopper_pearson(k, n, confidence)
    return f"{k}/{n} {what} ({confidence:.0%} CI {low:.2f}-{high:.2f})"


def _where(pool: tuple) -> str:
    task, policy, dynamics, regularizer, steps = pool
    return f"{task}, {policy} policy, {dynamics}, {regularizer} KL, {steps} steps"


def pooled(runs: pd.DataFrame, claim_betas, arms: Mapping[str, str],
           many_share: float) -> pd.DataFrame:
    """The paper's statements read as it makes them: one row per pool (:data:`POOL`) and
    method whose runs cover every β of ``claim_betas``: runs, collapsed, near uniform (all
    βs together), the per-β near-uniform fractions' minimum and its (first) β, the βs where
    that fraction is below ``many_share`` (``near_uniform_short_at``), whether the target
    collapses at any of the βs and whether it is near uniform at all of them, the mean
    reward, the arm (``arms[dynamics]``)."""
    chosen = runs[runs["beta"].isin(claim_betas)]
    rows = []
    for keys, cell in chosen.groupby([*POOL, "method"], sort=False):
        if set(cell["beta"]) != set(claim_betas):
            continue
        per_beta = cell.groupby("beta")["near_uniform"].mean()
        rows.append({**dict(zip([*POOL, "method"], keys, strict=True)),
                     "arm": arms[keys[2]], "runs": len(cell),
                     "collapsed": int(cell["collapsed_final"].sum()),
                     "collapsed_ever": int(cell["collapsed_ever"].sum()),
                     "past_target": int(cell["past_target"].sum()),
                     "near_uniform": int(cell["near_uniform"].sum()),
                     "near_uniform_min": float(per_beta.min()),
                     "near_uniform_min_beta": float(per_beta.idxmin()),
                     "near_uniform_short_at": " ".join(  # never an empty cell (read as NaN)
                         f"{b:g}" for b in sorted(per_beta.index) if per_beta[b] < many_share)
                     or "none",
                     "near_uniform_by_beta": " ".join(
                         f"{b:g}:{int(cell[cell['beta'] == b]['near_uniform'].sum())}/"
                         f"{int((cell['beta'] == b).sum())}" for b in sorted(per_beta.index)),
                     "target_collapsed": bool(cell["target_collapsed"].any()),
                     "target_near_uniform": bool(cell["target_near_uniform"].all()),
                     "mean_reward": float(cell["mean_reward"].mean())})
    return pd.DataFrame(rows)


def budget_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Collapse over the step budgets, per cell (:data:`CELL` without ``steps``) of the runs
    trained to the longest steps of the table: at each budget, the runs collapsed then
    (``collapsed_final``) and at some checkpoint up to it (``collapsed_ever``), as
    ``final/runs`` and ``ever/runs`` columns per budget."""
    longest = runs["trained_steps"].max()
    chosen = runs[runs["trained_steps"] == longest]
    keys = [k for k in CELL if k != "steps"]
    rows = []
    for cell_keys, cell in chosen.groupby(keys, sort=False):
        row = dict(zip(keys, cell_keys, strict=True))
        for steps, at in cell.groupby("steps"):
            row[f"collapsed at {steps}"] = f"{int(at['collapsed_final'].sum())}/{len(at)}"
            row[f"ever by {steps}"] = f"{int(at['collapsed_ever'].sum())}/{len(at)}"
        rows.append(row)
    return pd.DataFrame(rows)


def margins(runs: pd.DataFrame, pools: pd.DataFrame,
            log_vanilla_targets: Mapping[tuple, Mapping], log_refs: Mapping[tuple, np.ndarray],
            tasks: Mapping[str, Task], judging: Mapping) -> pd.DataFrame:
    """Margins of :data:`CLAIMS` (module doc).

    ``log_vanilla_targets[(task, policy)][(regularizer, beta)]``: the vanilla exact targets
    whose Remark 4.3 rows are checked, ``log_refs[(task, policy)]`` their references;
    ``pools``: :func:`pooled` of the gathered ``runs``.
    """
    rows = []
    for (name, kind), targets in log_vanilla_targets.items():
        reference = mode_shares(tasks[name], log_refs[(name, kind)]).max()
        for (regularizer, beta), log_target in targets.items():
            gap = abs(mode_shares(tasks[name], log_target).max() - reference)
            claim = ("target_keeps_reference_ratio" if regularizer == "reverse"
                     else "forward_target_keeps_reference_ratio")
            rows.append((name, claim, f"{kind} policy, β={beta:g}", -gap))
    confidence, many = judging["confidence"], judging["many_share"]
    threshold = f"entropy >= {judging['near_uniform']:g}·log |V|"
    for keys, pool in pools.groupby(POOL, sort=False):
        where = _where(keys)
        vanilla = pool[pool["method"] == "vanilla"]
        for _, v in vanilla.iterrows():
            n, k = v["runs"], v["collapsed"]
            if not v["target_collapsed"]:
                rows.append((keys[0], f"vanilla_all_but_one_collapse_{keys[3]}_{v['arm']}",
                             f"{where}: {_count(k, n, 'collapsed', confidence)}",
                             (k - (n - 1)) / n))
                rows.append((keys[0], "vanilla_collapses_past_target",
                             f"{where}: {_count(v['past_target'], n, 'past target', confidence)}",
                             v["past_target"] / n - 0.5))
        for _, m in pool[pool["method"] != "vanilla"].iterrows():
            at = f"{where}, {m['method']}"
            if m["target_near_uniform"]:
                rows.append((keys[0], f"mara_near_uniform_all_betas_{keys[3]}_{m['arm']}",
                             f"{at}: near uniform ({threshold}) per β "
                             f"{m['near_uniform_by_beta']}; below many_share at β ∈ "
                             f"{{{m['near_uniform_short_at']}}}",
                             m["near_uniform_min"] - many))
            for _, v in vanilla.iterrows():
                rows.append((keys[0], "mara_no_reward_loss",
                             f"{at}: mean reward {m['mean_reward']:.4f}, vanilla "
                             f"{v['mean_reward']:.4f}",
                             m["mean_reward"] - v["mean_reward"] + judging["reward_tolerance"]))
    return pd.DataFrame(rows, columns=["reference", "claim", "case", "margin"])


TABLE_NOTE = """
Paper C's LLM "1 or 2" experiment (§6.1) as an analogue in NumPy, not an LLM: an
autoregressive policy (a table of logits, or a small network shared across positions)
pretrained on a corpus whose answer format is shared by both answers and only partly
completed, then trained by sampled policy gradient. One row per task, policy, dynamics,
KL, method, β and step budget (`steps`); metrics are seed means at that budget (exact, not
sampled). `p_answer_<k>`, `p_valid_<k>`: the reference's probability of starting with the
k-th answer and of completing the format after it. `collapsed_final`: runs whose top mode
(any answer) holds >= collapse_share of the valid mass at the budget, with its
Clopper-Pearson interval; `collapsed_ever`: at some checkpoint up to it (after step 0);
`top_answer_counts`: onto which answer; `target_collapsed`: whether the exact target itself
collapses (then collapse is what the objective asks); `past_target`: collapsed runs whose
exact target does not; `near_uniform`: runs whose valid-answer entropy is >=
near_uniform·log |V|. `kl_target`: KL(π ‖ T) to the exact optimum T of the run's objective
(nats); `target_*`: T's own values. The grpo arm runs no Algorithm 2 (its per-token KL term
has no per-sequence reference).
"""

SUMMARY_METRICS = ["mean_reward", "validity", "valid_entropy_normalized", "top_mode_share",
                   "kl_reference", "kl_target"]


def summary_table(runs: pd.DataFrame, formats: Mapping[tuple, pd.DataFrame],
                  confidence: float) -> pd.DataFrame:
    """Per cell (:data:`CELL`): the reference's format (``formats[(task, policy)]``,
    :func:`bonkl.rl.tasks.answer_format`, first two answers), counts with intervals, seed
    means, and the exact target's."""
    rows = []
    for keys, cell in runs.groupby(CELL, sort=False):
        collapsed = cell[cell["collapsed_final"]]
        low, high = clopper_pearson(len(collapsed), len(cell), confidence)
        onto = collapsed["top_answer"].value_counts().sort_index()
        fmt = formats[(keys[0], keys[1])].head(2).reset_index(drop=True)
        rows.append({
            **dict(zip(CELL, keys, strict=True)),
            "reference_validity": cell["reference_validity"].iloc[0],
            **{f"{column}_{k + 1}": fmt.loc[k, column] for k in fmt.index
               for column in ("answer", "p_answer", "p_valid")},
            "runs": len(cell), "collapsed_final": len(collapsed),
            "collapsed_low": low, "collapsed_high": high,
            "collapsed_ever": int(cell["collapsed_ever"].sum()),
            "top_answer_counts": " ".join(f"{a}:{k}" for a, k in onto.items()),
            "target_collapsed": bool(cell["target_collapsed"].iloc[0]),
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


# ---------------------------------------------------------------- findings


def _markdown_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _pool_names(frame: pd.DataFrame, with_method: bool = False) -> str:
    names = [f"{r.task} ({r.policy}, {r.dynamics}, {r.regularizer} KL"
             + (f", {r.method}" if with_method else "") + f", {r.steps} steps)"
             for r in frame.itertuples(index=False)]
    return "; ".join(names) if names else "none"


def findings(pools: pd.DataFrame, summary: pd.DataFrame, over_budgets: pd.DataFrame,
             judging: Mapping, claim_betas) -> str:
    """The analogue's findings as a Markdown fragment, every number from ``pools``
    (:func:`pooled`), ``summary`` (:func:`summary_table`) and ``over_budgets``
    (:func:`budget_table`): the references' format, the paper's two statements pooled as it
    makes them (which pools reproduce them and which do not, target rows apart), and
    collapse over the step budgets. No causal sentence: the budget table answers whether
    collapse is a transient (``ever by`` against ``collapsed at``); it does not assert why."""
    betas = ", ".join(f"{b:g}" for b in claim_betas)
    lines = [
        "These are results of our NumPy analogue of the paper's LLM \"1 or 2\" runs (a table "
        "of logits or a small shared network, trained by sampled policy gradient), not of "
        "the paper's runs; where the analogue does not reproduce a statement of the paper, "
        "that is a failure of the analogue's dynamics (the paper does not give its trainer), "
        "not of the paper.",
        "",
        "**The references' answer format** (the same continuations after every answer; the "
        "preference sits in the answer token): per task and policy kind, the probability of "
        "starting with each answer and of completing the format after it.",
        "",
    ]
    fmt_columns = [c for c in summary.columns if c.startswith(("answer_", "p_answer_",
                                                               "p_valid_"))]
    formats = summary.drop_duplicates(["task", "policy"])[["task", "policy", *fmt_columns]]
    lines += [_markdown_table(formats.round(3)), ""]
    vanilla = pools[(pools["method"] == "vanilla")]
    free = vanilla[~vanilla["target_collapsed"]]
    held = free[free["collapsed"] >= free["runs"] - 1]
    lines += [
        f"**\"All but one vanilla run collapse\"**, pooled over β ∈ {{{betas}}} and seeds, as "
        f"the paper states it (a run collapsed when one answer holds >= "
        f"{judging['collapse_share']:g} of the valid mass, either answer): of the {len(free)} "
        f"pools (task, policy, dynamics, KL, budget) whose vanilla target does not itself "
        f"collapse, {len(held)} reproduce it (at most one run of the pool not collapsed): "
        f"{_pool_names(held)}. {int(vanilla['target_collapsed'].sum())} further pools have a "
        "target that collapses, so collapse there is what the objective asks; they are not "
        "counted.",
        "",
    ]
    show = ["task", "policy", "dynamics", "regularizer", "steps", "runs", "collapsed",
            "collapsed_ever"]
    if len(free):
        lines += [_markdown_table(free[show]), ""]
    mara_pools = pools[pools["method"] != "vanilla"]
    flat = mara_pools[mara_pools["target_near_uniform"]]
    skewed = mara_pools[~mara_pools["target_near_uniform"]]
    many = judging["many_share"]
    held = flat[flat["near_uniform_min"] >= many]
    failed = flat[flat["near_uniform_min"] < many]
    short = pd.Series([float(b) for at in failed["near_uniform_short_at"] for b in at.split()],
                      dtype=float).value_counts().sort_index()
    lines += [
        f"**\"Many MARA runs near 50/50 across all βs\"** (a run near uniform when its "
        f"valid-answer entropy is >= {judging['near_uniform']:g}·log |V|; a pool reproduces "
        f"the statement when at every β of {{{betas}}} at least {many:g} of its runs are): of "
        f"the {len(flat)} MARA pools whose exact target is near uniform, {len(held)} reproduce "
        f"it: {_pool_names(held, True)}. Of the {len(failed)} that do not, the number of them "
        f"short of {many:g} at each β: "
        + (", ".join(f"β = {b:g} in {k}" for b, k in short.items()) or "none")
        + f". The {len(skewed)} further MARA pools have an exact target that is not near "
        "uniform (a property of the target, not of the dynamics): "
        f"{_pool_names(skewed, True)}.",
        "",
    ]
    show = ["task", "policy", "dynamics", "regularizer", "method", "steps",
            "near_uniform_by_beta"]
    if len(flat):
        lines += [_markdown_table(flat[show]), ""]
    if len(over_budgets):
        budgets = sorted({int(c.split()[-1]) for c in over_budgets.columns
                          if c.startswith("collapsed at")})
        lines += [
            f"**Collapse over the step budgets** ({', '.join(map(str, budgets))} steps; each "
            "shorter budget is a prefix of the same runs): per cell trained to the longest "
            "budget, the runs collapsed at each budget and at some checkpoint up to it.",
            "",
            _markdown_table(over_budgets),
            "",
        ]
    return "\n".join(lines)
