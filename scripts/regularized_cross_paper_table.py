"""Stage regularized: the cross-paper table (CSV, Markdown, HTML) for figures/."""

import pandas as pd

from bonkl.regularized import CROSS_PAPER_NOTE, cross_paper_summary
from bonkl.runlog import run
from bonkl.tables import read_table, write_table_views


def main(sm, log):
    table = pd.concat([read_table(path).assign(reference=name)
                       for name, path in zip(sm.params.references, sm.input.tables, strict=True)],
                      ignore_index=True)
    summary = cross_paper_summary(table)
    write_table_views(summary, sm.output.csv, sm.output.md, sm.output.html,
                      title="Good modes at matched KL, across papers", note=CROSS_PAPER_NOTE)
    log.info("%d rows", len(summary))


run(snakemake, main)  # noqa: F821
