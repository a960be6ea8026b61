"""Stage policy_gradient: a task's reference, pretrained on its biased corpus (one job per task)."""

from bonkl.rl_tasks import build_task, pretrain_reference, write_reference
from bonkl.runlog import run
from bonkl.seeding import generator


def main(sm, log):
    task = build_task(sm.wildcards.task, sm.params.spec)
    logits, counts = pretrain_reference(
        task, generator(sm.params.seed, "policy_gradient", "corpus", task.name))
    write_reference(task, logits, counts, sm.output[0])
    log.info("%s: %d corpus answers, %d states", task.name, counts.sum(), task.space.states)


run(snakemake, main)  # noqa: F821
