"""Stage pages: the claims ledger as CSV beside its Markdown, so the pages re-render offline."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_table


def main(sm, log):
    ledger = read_table(sm.input.ledger)
    write_table(ledger, sm.output[0])
    log.info("%d claims", len(ledger))


run(snakemake, main)  # noqa: F821
