"""Stage figures: the claims ledger rendered as Markdown."""

from bonkl.claims import LEDGER_NOTE
from bonkl.runlog import run
from bonkl.tables import read_table, write_markdown


def main(sm, log):
    write_markdown(read_table(sm.input.ledger), sm.output[0], title="Claims ledger",
                   note=LEDGER_NOTE)


run(snakemake, main)  # noqa: F821
