"""Stage claims: check the claims on one chunk of random references."""

import pandas as pd

from bonkl.claims import best_of_n_margins, summarize
from bonkl.references import random_reference
from bonkl.runlog import run
from bonkl.seeding import generator
from bonkl.tables import write_table


def main(sm, log):
    chunk = int(sm.wildcards.chunk)
    rng = generator(sm.params.seed, "claims_random", chunk)
    margins = []
    for i in range(sm.params.reference_count):
        p, r = random_reference(rng, sm.params.max_size)
        margins.append(best_of_n_margins(p, r, sm.params.n_grid).assign(
            reference=f"random-{chunk}-{i}"))
    summary = summarize(pd.concat(margins, ignore_index=True))
    log.info("%d random references\n%s", sm.params.reference_count, summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
