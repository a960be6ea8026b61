"""Stage winrate: one reference's win rates over n, rewind-and-repeat, trade-off curves, claims."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study.ledger import summarize
from bonkl.study.winrate import (
    CLAIMS,
    reference_margins,
    rewind_by_threshold,
    sampled_by_n,
    tradeoff_curves,
    win_rate_by_n,
)


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    rng = generator(sm.params.seed, "winrate", sm.wildcards.reference)
    exact = win_rate_by_n(p, r, sm.params.n_grid)
    by_n = pd.concat([exact, sampled_by_n(p, r, sm.params.n_grid, sm.params.pairs, rng)], axis=1)
    by_threshold = rewind_by_threshold(p, r, sm.params.thresholds, sm.params.pairs, rng)
    margins = reference_margins(p, r, by_n, by_threshold).assign(reference=sm.wildcards.reference)
    claims = summarize(margins, CLAIMS.values())
    log.info("%d values of n, %d thresholds, %d pairs each\n%s", len(by_n), len(by_threshold),
             sm.params.pairs, claims.to_string())
    write_table(by_n, sm.output.by_n)
    write_table(by_threshold, sm.output.rewind)
    write_table(tradeoff_curves(by_n, by_threshold, p, r, sm.params.betas), sm.output.tradeoff)
    write_table(claims, sm.output.claims)


run(snakemake, main)  # noqa: F821
