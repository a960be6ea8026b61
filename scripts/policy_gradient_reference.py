"""Stage policy_gradient: every task's reference, pretrained on its corpus (one job)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.rl.tasks import build_task, pretrain_reference, write_reference


def main(sm, log):
    for (name, spec), path in zip(sm.params.specs.items(), sm.output, strict=True):
        task = build_task(name, spec)
        logits, counts = pretrain_reference(
            task, generator(sm.params.seed, "policy_gradient", "corpus", task.name))
        write_reference(task, logits, counts, path)
        log.info("%s: %d corpus answers, %d states", task.name, counts.sum(), task.space.states)


run(snakemake, main)  # noqa: F821
