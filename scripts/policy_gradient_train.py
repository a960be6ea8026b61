"""Stage policy_gradient: one training job, its slice of the stage's runs trained per task as
one vectorised computation (bonkl.rl.trainer.train)."""

import numpy as np
import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import write_table
from bonkl.rl.tasks import build_task, read_reference_logits
from bonkl.rl.trainer import Run, Training, final_distribution, log_exact_target, train
from bonkl.study.policy_gradient import LABELS


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
        log_ref = task.space.log_probs(reference)
        labelled = [labels for labels in p.runs if labels["task"] == name]
        runs = [Run(lab["regularizer"], lab["method"], lab["beta"],
                    dynamics[lab["dynamics"]]["advantage"],
                    dynamics[lab["dynamics"]]["learning_rate"]) for lab in labelled]
        rngs = [generator(p.seed, "policy_gradient", *(lab[k] for k in LABELS))
                for lab in labelled]
        targets = {}
        for r in runs:
            key = (r.regularizer, r.method, r.beta)
            if key not in targets:
                targets[key] = log_exact_target(task, log_ref, *key)
        log_targets = np.array([targets[(r.regularizer, r.method, r.beta)] for r in runs])
        trained = train(task, reference, runs, training, rngs, log_targets)
        for k, lab in enumerate(labelled):
            curves.append(pd.DataFrame({**lab, "step": trained.steps,
                                        **{m: v[k] for m, v in trained.metrics.items()}}))
            if lab["beta"] == p.figure_beta:
                finals.append(pd.DataFrame({**lab, **final_distribution(
                    task, trained.log_pi[k], log_ref, log_targets[k])}))
        log.info("%s: %d runs trained", name, len(runs))
    write_table(pd.concat(curves, ignore_index=True), sm.output.curves)
    write_table(pd.concat(finals, ignore_index=True) if finals else
                pd.DataFrame(columns=[*LABELS, "answer"]), sm.output.final)


run(snakemake, main)  # noqa: F821
