"""Stage winrate: the table of best-of-n's KL and win rate against the optimum, per reference."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table_views
from bonkl.study.winrate import TABLE_NOTE, summary_table


def main(sm, log):
    references = {name: read_reference(path)[:2]
                  for name, path in zip(sm.params.references, sm.input.references, strict=True)}
    table = summary_table(references, sm.params.n_list)
    log.info("\n%s", table.to_string())
    write_table_views(table, sm.output.csv, sm.output.md, sm.output.html,
                      title="Best-of-n: KL and win rate against the optimum", note=TABLE_NOTE)


run(snakemake, main)  # noqa: F821
