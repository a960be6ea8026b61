"""Stage policy_gradient: a task's runs gathered (final metrics, figure curves, margins)."""

import pandas as pd

from bonkl.policy_gradient_study import margins, run_row, target_rows
from bonkl.rl_tasks import build_task, read_reference_logits
from bonkl.runlog import run
from bonkl.tables import read_table, write_table


def main(sm, log):
    p = sm.params
    task = build_task(sm.wildcards.task, p.spec)
    log_ref = task.space.log_probs(read_reference_logits(task, sm.input.reference))
    rows, curves, finals = [], [], []
    for labels, curve_path, final_path in zip(p.runs, sm.input.curves, sm.input.finals,
                                              strict=True):
        curve = read_table(curve_path)
        rows.append(run_row(curve, labels, p.judging))
        if labels["beta"] == p.figure_beta:
            curves.append(curve.assign(**labels))
            finals.append(read_table(final_path).assign(**labels))
    runs = pd.DataFrame(rows)
    cells = runs[["regularizer", "method", "beta"]].drop_duplicates().itertuples(index=False)
    targets = target_rows(task, log_ref, cells, p.judging["coverage_share"])
    runs = runs.merge(targets, on=["regularizer", "method", "beta"], how="left")
    write_table(runs, sm.output.runs)
    write_table(pd.concat(curves, ignore_index=True), sm.output.curves)
    write_table(pd.concat(finals, ignore_index=True), sm.output.final)
    write_table(margins(task.name, runs, p.claim_betas, p.judging["reward_tolerance"]),
                sm.output.margins)
    log.info("%s: %d runs, %d collapsed, %d near uniform", task.name, len(runs),
             runs["collapsed"].sum(), runs["near_uniform"].sum())


run(snakemake, main)  # noqa: F821
