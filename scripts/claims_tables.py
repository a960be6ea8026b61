"""Stage figures: the claims ledger as Markdown (repository) and HTML (report)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_table, write_html, write_markdown
from bonkl.study.ledger import LEDGER_NOTE


def main(sm, log):
    ledger = read_table(sm.input.ledger)
    write_markdown(ledger, sm.output.markdown, title="Claims ledger", note=LEDGER_NOTE)
    write_html(ledger, sm.output.html, title="Claims ledger", note=LEDGER_NOTE)
    log.info("%d claims, %d holding", len(ledger), int(ledger["holds"].sum()))


run(snakemake, main)  # noqa: F821
