"""Stage policy_gradient: the summary of every run for figures/ (CSV, Markdown, HTML)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, write_table_views
from bonkl.study.policy_gradient import TABLE_NOTE, summary_table


def main(sm, log):
    runs = read_labelled(sm.input.runs, sm.params.tasks, "task")
    table = summary_table(runs)
    write_table_views(table, sm.output.csv, sm.output.md, sm.output.html,
                      title="Sampled policy gradient with and without MARA (NumPy analogue)",
                      note=TABLE_NOTE)
    log.info("%d settings", len(table))


run(snakemake, main)  # noqa: F821
