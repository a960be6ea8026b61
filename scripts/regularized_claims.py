"""Stage regularized: paper C's claims ledger rows from the examples' margins."""

import pandas as pd

from bonkl.claims import summarize
from bonkl.regularized_claims import CLAIMS
from bonkl.runlog import run
from bonkl.tables import read_table, write_table


def main(sm, log):
    margins = pd.concat([read_table(path) for path in sm.input.margins], ignore_index=True)
    summary = summarize(margins, CLAIMS.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
