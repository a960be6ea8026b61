"""Stage policy_gradient: every run gathered and judged per task (runs, checkpoints, final
distributions), the ledger margins, and the summary table for figures/."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table, write_table_views
from bonkl.rl.tasks import build_task, read_reference_logits
from bonkl.rl.trainer import log_exact_target
from bonkl.study.policy_gradient import TABLE_NOTE, gather, margins, summary_table


def main(sm, log):
    p = sm.params
    curves = pd.concat([read_table(path) for path in sm.input.curves], ignore_index=True)
    finals = pd.concat([read_table(path) for path in sm.input.finals], ignore_index=True)
    tasks, log_refs, vanilla_targets, gathered = {}, {}, {}, []
    for name, ref_path, out_runs, out_curves, out_final in zip(
            p.task_names, sm.input.references, sm.output.runs, sm.output.curves,
            sm.output.final, strict=True):
        task = tasks[name] = build_task(name, p.specs[name])
        log_ref = log_refs[name] = task.space.log_probs(read_reference_logits(task, ref_path))
        mine = curves[curves["task"] == name]
        runs = gather(task, log_ref, mine, p.judging)
        gathered.append(runs)
        vanilla_targets[name] = {
            (regularizer, beta): log_exact_target(task, log_ref, regularizer, "vanilla", beta)
            for regularizer in p.regularizers for beta in p.claim_betas}
        shown = mine[mine["beta"].isin(p.claim_betas) & (mine["dynamics"] == p.main_dynamics)]
        write_table(runs.drop(columns="task"), out_runs)
        write_table(shown.drop(columns="task"), out_curves)
        write_table(finals[finals["task"] == name].drop(columns="task"), out_final)
        log.info("%s: %d runs, %d collapsed, %d near uniform", name, len(runs),
                 runs["collapsed"].sum(), runs["near_uniform"].sum())
    runs = pd.concat(gathered, ignore_index=True)
    write_table(margins(runs, log_refs, vanilla_targets, tasks, p.claim_betas, p.judging),
                sm.output.margins)
    write_table_views(summary_table(runs, p.judging["confidence"]), sm.output.csv,
                      sm.output.md, sm.output.html,
                      title="Sampled policy gradient with and without MARA (tabular analogue)",
                      note=TABLE_NOTE)


run(snakemake, main)  # noqa: F821
