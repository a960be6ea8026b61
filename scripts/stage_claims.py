"""A stage's claims ledger rows: its margins summarised with ``CLAIMS`` of ``params.claims``."""

from importlib import import_module

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table
from bonkl.study.ledger import summarize


def main(sm, log):
    claims = import_module(sm.params.claims).CLAIMS
    margins = pd.concat([read_table(path) for path in sm.input.margins], ignore_index=True)
    summary = summarize(margins, claims.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
