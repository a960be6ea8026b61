"""Stage estimators: the table over models (figures/) and the ledger margins of the goal."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table, write_table_views
from bonkl.study.estimators import TABLE_NOTE, margins


def main(sm, log):
    table = pd.concat([read_table(path) for path in sm.input.tables], ignore_index=True)
    write_table_views(table, sm.output.csv, sm.output.md, sm.output.html,
                      title="Sampled estimators against exact truth (known-law models)",
                      note=TABLE_NOTE)
    result = margins(table, sm.params.goal, sm.params.level)
    log.info("%d rows, %d margins, %d negative", len(table), len(result),
             int((result["margin"] < 0).sum()))
    write_table(result, sm.output.margins)


run(snakemake, main)  # noqa: F821
