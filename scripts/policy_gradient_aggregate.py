"""Stage policy_gradient: every run gathered and judged per task and step budget (runs,
checkpoints, final distributions), the pooled readings of the paper's statements, the ledger
margins, the summary table and the findings fragment for figures/."""

from pathlib import Path

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table, write_table_views
from bonkl.rl.tasks import answer_format, build_task, read_reference
from bonkl.rl.trainer import log_exact_target
from bonkl.study.policy_gradient import (
    TABLE_NOTE,
    budget_table,
    findings,
    gather,
    judge_checkpoints,
    margins,
    pooled,
    reference_log_probs,
    reference_params,
    summary_table,
)


def by_task(paths) -> dict[str, str]:
    """Files named after their task: ``{stem: path}``."""
    return {Path(path).stem: path for path in paths}


def main(sm, log):
    p = sm.params
    curves = pd.concat([read_table(path) for path in sm.input.curves], ignore_index=True)
    finals = pd.concat([read_table(path) for path in sm.input.finals], ignore_index=True)
    references = by_task(sm.input.references)
    outputs = {what: by_task(getattr(sm.output, what)) for what in ("runs", "curves", "final")}
    tasks, log_refs, vanilla_targets, formats, gathered = {}, {}, {}, {}, []
    for name in p.task_names:
        task = tasks[name] = build_task(name, p.specs[name])
        logits, transitions = read_reference(task, references[name])
        mine = judge_checkpoints(curves[curves["task"] == name], p.judging, p.claim_betas)
        refs = {}
        for kind in dict.fromkeys(mine["policy"]):
            policy, params = reference_params(task, kind, logits, transitions, p.mlp, p.seed)
            refs[kind] = log_refs[(name, kind)] = reference_log_probs(policy, params)
            formats[(name, kind)] = answer_format(task, refs[kind])
            vanilla_targets[(name, kind)] = {
                (regularizer, beta): log_exact_target(task, refs[kind], regularizer, "vanilla",
                                                      beta)
                for regularizer in p.regularizers for beta in p.claim_betas}
        runs = gather(task, refs, mine, p.budgets, p.judging)
        gathered.append(runs)
        write_table(runs.drop(columns="task"), outputs["runs"][name])
        write_table(mine.drop(columns="task"), outputs["curves"][name])
        write_table(finals[finals["task"] == name].drop(columns="task"), outputs["final"][name])
        log.info("%s: %d run rows, %d collapsed at their budget", name, len(runs),
                 runs["collapsed_final"].sum())
    runs = pd.concat(gathered, ignore_index=True)
    pools = pooled(runs, p.claim_betas, {d["name"]: d["arm"] for d in p.dynamics},
                   p.judging["many_share"])
    write_table(pools, sm.output.pooled)
    write_table(margins(runs, pools, vanilla_targets, log_refs, tasks, p.judging),
                sm.output.margins)
    summary = summary_table(runs, formats, p.judging["confidence"])
    write_table_views(summary, sm.output.csv, sm.output.md, sm.output.html,
                      title="Sampled policy gradient with and without MARA (NumPy analogue)",
                      note=TABLE_NOTE)
    over_budgets = budget_table(runs)
    write_table(over_budgets, sm.output.budgets)
    Path(sm.output.findings).write_text(
        findings(pools, summary, over_budgets, p.judging, p.claim_betas) + "\n")


run(snakemake, main)  # noqa: F821
