"""Stage samples: one reward's per-prompt table and summary over prompts of the sample file."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study.samples import per_prompt, read_config_samples, summary


def main(sm, log):
    samples = read_config_samples(sm.params.section, sm.wildcards.reward)
    table = per_prompt(samples, sm.params.n_grid)
    log.info("%d prompts, %d outcomes, %d values of n", table["prompt"].nunique(),
             len(samples), len(sm.params.n_grid))
    write_table(table, sm.output.per_prompt)
    write_table(summary(table), sm.output.summary)


run(snakemake, main)  # noqa: F821
