"""Stage winrate: the table of best-of-n's KL and win rate against the optimum, per reference,
and the worst margin of our equal-KL reading of the paper's conclusion, per reference."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_reference, write_table_views
from bonkl.study.winrate import EQUAL_KL_NOTE, TABLE_NOTE, equal_kl_table, summary_table


def main(sm, log):
    references = {name: read_reference(path)[:2]
                  for name, path in zip(sm.params.references, sm.input.references, strict=True)}
    table = summary_table(references, sm.params.n_list)
    equal_kl = equal_kl_table(references, sm.params.n_grid)
    log.info("\n%s\n%s", table.to_string(), equal_kl.to_string())
    write_table_views(table, sm.output.csv, sm.output.md, sm.output.html,
                      title="Best-of-n: KL and win rate against the optimum", note=TABLE_NOTE)
    write_table_views(equal_kl, sm.output.equal_kl_csv, sm.output.equal_kl_md,
                      sm.output.equal_kl_html,
                      title="Best-of-n at equal KL against the continuous curve (our reading)",
                      note=EQUAL_KL_NOTE)


run(snakemake, main)  # noqa: F821
