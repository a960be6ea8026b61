"""Stage regularized: best-of-n, the KL-constrained optimum and the forward-KL target at
best-of-n's KL, per good mode of one reference."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study.regularized import cross_paper


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    table, margins = cross_paper(p, r, sm.params.n)
    log.info("%d rows for n in %s", len(table), sm.params.n)
    write_table(table, sm.output.table)
    write_table(margins.assign(reference=sm.wildcards.reference), sm.output.margins)


run(snakemake, main)  # noqa: F821
