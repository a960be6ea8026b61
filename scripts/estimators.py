"""Stage estimators: every sampled estimator on one known-law model, per N and n."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study.estimators import evaluate


def main(sm, log):
    table = evaluate(sm.wildcards.model, sm.params.estimators, sm.params.runs, sm.params.n,
                     sm.params.level, sm.params.seed)
    log.info("%s: %d rows", sm.wildcards.model, len(table))
    write_table(table, sm.output[0])


run(snakemake, main)  # noqa: F821
