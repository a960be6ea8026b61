"""Stage samples: one reward's per-prompt estimates and summary over prompts of the sample file."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study.samples import estimate, estimate_summary, read_config_samples


def main(sm, log):
    section = sm.params.section
    samples = read_config_samples(section, sm.wildcards.reward)
    table = estimate(samples, sm.params.n_grid, section["estimators"], section["level"],
                     section.get("known_law"), sm.wildcards.reward)
    log.info("%d prompts, %d distinct completions, %d values of n, estimators %s",
             samples["prompt"].nunique(), len(samples), len(sm.params.n_grid),
             section["estimators"])
    write_table(table, sm.output.per_prompt)
    write_table(estimate_summary(table, section["level"]), sm.output.summary)


run(snakemake, main)  # noqa: F821
