"""Stage kl_constrained: the optimal frontier and best-of-n's shortfall for one reference."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study import kl_constrained as study
from bonkl.study.ledger import summarize


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    frontier = study.frontier_table(p, r, sm.params.fractions, sm.params.n_grid)
    shortfall = study.shortfall_table(p, r, sm.params.n_grid)
    margins = study.reference_margins(sm.wildcards.reference, shortfall)
    log.info("%d frontier rows, %d best-of-n points short of saturation", len(frontier),
             len(shortfall))
    write_table(frontier, sm.output.frontier)
    write_table(shortfall, sm.output.shortfall)
    write_table(summarize(margins, study.CLAIMS.values()), sm.output.claims)


run(snakemake, main)  # noqa: F821
