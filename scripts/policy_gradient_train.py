"""Stage policy_gradient: one training job, its slice of the stage's runs trained per task,
policy kind and step count as one vectorised computation (bonkl.rl.trainer.train)."""

from pathlib import Path

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.rl.tasks import build_task, read_reference
from bonkl.study.policy_gradient import LABELS, reference_params, train_task


def main(sm, log):
    p = sm.params
    percentile = None if p.mara_tau == "task" else p.mara_tau["percentile"]
    training = dict(coverage_share=p.coverage_share, tau_percentile=percentile, **p.training)
    dynamics = {d["name"]: d for d in p.dynamics}
    paths = {Path(path).stem: path for path in sm.input.references}
    curves, finals = [], []
    for name in dict.fromkeys(labels["task"] for labels in p.runs):
        task = build_task(name, p.specs[name])
        logits, transitions = read_reference(task, paths[name])
        labelled = [labels for labels in p.runs if labels["task"] == name]
        references = {kind: reference_params(task, kind, logits, transitions, p.mlp, p.seed)
                      for kind in dict.fromkeys(lab["policy"] for lab in labelled)}
        task_curves, task_finals = train_task(task, references, labelled, dynamics, training,
                                              p.seed)
        curves += task_curves
        finals += task_finals
        log.info("%s: %d runs trained", name, len(labelled))
    write_table(pd.concat(curves, ignore_index=True), sm.output.curves)
    write_table(pd.concat(finals, ignore_index=True) if finals else
                pd.DataFrame(columns=[*LABELS, "answer"]), sm.output.final)


run(snakemake, main)  # noqa: F821
