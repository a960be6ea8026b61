"""Stage bestofn: exact KL quantities, the Monte-Carlo estimator and the draws it needs, over
the n grid."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study.bestofn import kl_summary, monte_carlo_columns, sample_size_columns


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    rng = generator(sm.params.seed, "bestofn", sm.wildcards.reference)
    exact = kl_summary(p, r, sm.params.n_grid)
    sampled = monte_carlo_columns(p, r, sm.params.n_grid, sm.params.draws, rng)
    size = sm.params.sample_size
    needed = sample_size_columns(p, r, sm.params.n_grid, size["accuracy"], size["confidence"],
                                 size["replications"], rng)
    log.info("%d values of n, %d draws each; draws needed for %g nats: up to %d",
             len(exact), sm.params.draws, size["accuracy"], int(needed["draws_needed"].max()))
    write_table(pd.concat([exact, sampled, needed], axis=1), sm.output[0])


run(snakemake, main)  # noqa: F821
