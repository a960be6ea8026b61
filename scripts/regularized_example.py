"""Stage regularized: one example of paper C (exact targets or policy fits) and its margins."""

from bonkl.regularized import EXAMPLES
from bonkl.runlog import run
from bonkl.tables import write_table


def main(sm, log):
    table, margins = EXAMPLES[sm.wildcards.example](sm.params.spec, sm.params.check_betas)
    log.info("%s: %d rows, %d claim cases", sm.wildcards.example, len(table), len(margins))
    write_table(table, sm.output.table)
    write_table(margins, sm.output.margins)


run(snakemake, main)  # noqa: F821
