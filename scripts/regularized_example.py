"""Stage regularized: one example of paper C (exact targets or policy fits) and its margins."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study.regularized import EXAMPLES


def main(sm, log):
    table, margins = EXAMPLES[sm.wildcards.example](sm.params.spec, sm.params.check_betas)
    log.info("%s: %d rows, %d claim cases", sm.wildcards.example, len(table), len(margins))
    write_table(table, sm.output.table)
    write_table(margins, sm.output.margins)


run(snakemake, main)  # noqa: F821
