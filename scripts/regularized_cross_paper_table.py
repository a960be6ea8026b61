"""Stage regularized: the cross-paper table (CSV, Markdown, HTML) for figures/."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, write_table_views
from bonkl.study.regularized import CROSS_PAPER_NOTE, cross_paper_summary


def main(sm, log):
    table = read_labelled(sm.input.tables, sm.params.references, "reference")
    summary = cross_paper_summary(table)
    write_table_views(summary, sm.output.csv, sm.output.md, sm.output.html,
                      title="Good modes at matched KL, across papers", note=CROSS_PAPER_NOTE)
    log.info("%d rows", len(summary))


run(snakemake, main)  # noqa: F821
