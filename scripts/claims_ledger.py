"""Stage claims: merge every check's summary into the claims ledger."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table
from bonkl.study.ledger import ledger, unchecked


def main(sm, log):
    table = ledger(pd.concat([read_table(path) for path in sm.input.summaries], ignore_index=True))
    open_rows = unchecked(table)
    failing = table.loc[~table["holds"] & ~open_rows, "claim"].tolist()
    log.info("%d claims, not holding: %s; not checked: %s", len(table), failing or "none",
             table.loc[open_rows, "claim"].tolist() or "none")
    write_table(table, sm.output[0])


run(snakemake, main)  # noqa: F821
