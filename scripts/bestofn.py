"""Stage bestofn: exact KL quantities and the Monte-Carlo estimator over the n grid."""

import pandas as pd

from bonkl.kl_study import kl_summary, monte_carlo_columns
from bonkl.runlog import run
from bonkl.seeding import generator
from bonkl.tables import read_reference, write_table


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    rng = generator(sm.params.seed, "bestofn", sm.wildcards.reference)
    exact = kl_summary(p, r, sm.params.n_grid)
    sampled = monte_carlo_columns(p, r, sm.params.n_grid, sm.params.draws, rng)
    log.info("%d values of n, %d draws each", len(exact), sm.params.draws)
    write_table(pd.concat([exact, sampled], axis=1), sm.output[0])


run(snakemake, main)  # noqa: F821
