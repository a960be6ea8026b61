"""Stage kl_constrained: the optimal frontier, best-of-n's shortfall and the closed form
against a generic optimiser, for one reference."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study import kl_constrained as study
from bonkl.study.ledger import summarize


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    reference = sm.wildcards.reference
    frontier = study.frontier_table(p, r, sm.params.fractions, sm.params.n_grid)
    shortfall = study.shortfall_table(p, r, sm.params.n_grid)
    optimised = study.optimiser_table(p, r)
    margins = pd.concat([study.reference_margins(reference, shortfall),
                         study.optimiser_margins(reference, optimised)], ignore_index=True)
    log.info("%d frontier rows, %d best-of-n points short of saturation, %d optimiser checks",
             len(frontier), len(shortfall), len(optimised))
    write_table(frontier, sm.output.frontier)
    write_table(shortfall, sm.output.shortfall)
    write_table(optimised, sm.output.optimiser)
    write_table(summarize(margins, study.CLAIMS.values()), sm.output.claims)


run(snakemake, main)  # noqa: F821
