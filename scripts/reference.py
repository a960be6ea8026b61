"""Stage reference: build one named reference table from its config entry."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.references import build_reference


def main(sm, log):
    table = build_reference(sm.params.spec, sm.params.seed)
    log.info("%s: %d outcomes, %d distinct rewards", sm.wildcards.reference, len(table),
             table["reward"].nunique())
    write_table(table, sm.output[0])


run(snakemake, main)  # noqa: F821
