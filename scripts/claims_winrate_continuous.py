"""Stage winrate: check paper A's continuous-limit win-rate claims (no reference needed)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study.ledger import summarize
from bonkl.study.winrate import CLAIMS, continuous_margins


def main(sm, log):
    summary = summarize(continuous_margins(sm.params.n_grid), CLAIMS.values())
    log.info("\n%s", summary.to_string())
    write_table(summary, sm.output[0])


run(snakemake, main)  # noqa: F821
