"""Stage claims: check the claims on one chunk of random references (chunk 0 also checks the
estimator's range on its fixed grid)."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import write_table
from bonkl.study.claims import CLAIMS, estimator_range_margins, random_reference_summary
from bonkl.study.ledger import ledger, summarize


def main(sm, log):
    chunk = int(sm.wildcards.chunk)
    rng = generator(sm.params.seed, "claims_random", chunk)
    summary = random_reference_summary(rng, sm.params.reference_count, sm.params.max_size,
                                       sm.params.n_grid, label=f"random-{chunk}")
    if chunk == 0:
        grid = summarize(estimator_range_margins(), CLAIMS.values())
        summary = ledger(pd.concat([summary, grid], ignore_index=True))
    log.info("%d random references\n%s", sm.params.reference_count, summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
