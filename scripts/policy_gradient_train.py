"""Stage policy_gradient: one training job, its slice of the stage's runs trained per task as
one vectorised computation (bonkl.rl.trainer.train)."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.rl.tasks import build_task, read_reference_logits
from bonkl.rl.trainer import Training
from bonkl.study.policy_gradient import LABELS, train_task


def main(sm, log):
    p = sm.params
    percentile = None if p.mara_tau == "task" else p.mara_tau["percentile"]
    training = Training(coverage_share=p.coverage_share, tau_percentile=percentile,
                        **p.training)
    dynamics = {d["name"]: d for d in p.dynamics}
    curves, finals = [], []
    tasks = list(dict.fromkeys(labels["task"] for labels in p.runs))
    for name in tasks:
        task = build_task(name, p.specs[name])
        reference = read_reference_logits(task, sm.input.references[p.task_names.index(name)])
        labelled = [labels for labels in p.runs if labels["task"] == name]
        task_curves, task_finals = train_task(task, reference, labelled, dynamics, training,
                                              p.seed, p.figure_beta)
        curves += task_curves
        finals += task_finals
        log.info("%s: %d runs trained", name, len(labelled))
    write_table(pd.concat(curves, ignore_index=True), sm.output.curves)
    write_table(pd.concat(finals, ignore_index=True) if finals else
                pd.DataFrame(columns=[*LABELS, "answer"]), sm.output.final)


run(snakemake, main)  # noqa: F821
