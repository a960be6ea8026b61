"""Stage policy_gradient: a task's reference, pretrained on its biased corpus (one job per task)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.rl.tasks import build_task, pretrain_reference, write_reference


def main(sm, log):
    task = build_task(sm.wildcards.task, sm.params.spec)
    logits, counts = pretrain_reference(
        task, generator(sm.params.seed, "policy_gradient", "corpus", task.name))
    write_reference(task, logits, counts, sm.output[0])
    log.info("%s: %d corpus answers, %d states", task.name, counts.sum(), task.space.states)


run(snakemake, main)  # noqa: F821
