"""Stage claims: check paper A's KL claims on one reference of the config."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table
from bonkl.study.claims import CLAIMS, best_of_n_margins
from bonkl.study.ledger import summarize


def main(sm, log):
    p, r, _ = read_reference(sm.input.reference)
    margins = best_of_n_margins(p, r, sm.params.n_grid).assign(reference=sm.wildcards.reference)
    summary = summarize(margins, CLAIMS.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
