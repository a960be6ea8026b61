"""A stage's claims ledger rows: ``summarize`` its margins with ``bonkl.<params.claims>.CLAIMS``."""

from importlib import import_module

import pandas as pd

from bonkl.claims import summarize
from bonkl.runlog import run
from bonkl.tables import read_table, write_table


def main(sm, log):
    claims = import_module(f"bonkl.{sm.params.claims}").CLAIMS
    margins = pd.concat([read_table(path) for path in sm.input.margins], ignore_index=True)
    summary = summarize(margins, claims.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
