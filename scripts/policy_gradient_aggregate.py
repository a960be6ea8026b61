"""Stage policy_gradient: a task's runs gathered (final metrics, figure curves, margins)."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table
from bonkl.rl.tasks import build_task, read_reference_logits
from bonkl.study.policy_gradient import gather, margins


def main(sm, log):
    p = sm.params
    task = build_task(sm.wildcards.task, p.spec)
    log_ref = task.space.log_probs(read_reference_logits(task, sm.input.reference))
    labelled = [(labels, read_table(path)) for labels, path in zip(p.runs, sm.input.curves,
                                                                    strict=True)]
    runs = gather(task, log_ref, labelled, p.judging)
    shown = [(labels, curve, final) for (labels, curve), final
             in zip(labelled, sm.input.finals, strict=True) if labels["beta"] == p.figure_beta]
    curves = [curve.assign(**labels) for labels, curve, _ in shown]
    finals = [read_table(final).assign(**labels) for labels, _, final in shown]
    write_table(runs, sm.output.runs)
    write_table(pd.concat(curves, ignore_index=True), sm.output.curves)
    write_table(pd.concat(finals, ignore_index=True), sm.output.final)
    write_table(margins(task.name, runs, p.claim_betas, p.judging["reward_tolerance"]),
                sm.output.margins)
    log.info("%s: %d runs, %d collapsed, %d near uniform", task.name, len(runs),
             runs["collapsed"].sum(), runs["near_uniform"].sum())


run(snakemake, main)  # noqa: F821
