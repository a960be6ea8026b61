"""Stage claims: check paper A's KL claims on every reference of the config."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study.claims import CLAIMS, best_of_n_margins
from bonkl.study.ledger import summarize


def main(sm, log):
    margins = []
    for name, path in zip(sm.params.references, sm.input.references, strict=True):
        p, r, _ = read_reference(path)
        margins.append(best_of_n_margins(p, r, sm.params.n_grid).assign(reference=name))
    summary = summarize(pd.concat(margins, ignore_index=True), CLAIMS.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
