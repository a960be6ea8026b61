"""Stage bestofn: the best-of-n KL table of one chunk's random reference where Theorem 3.4's
outcome form, applied to tied rewards, fails worst (the evidence of that ledger row)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.seeding import generator
from bonkl.plumbing.tables import read_table, write_table
from bonkl.study.bestofn import kl_summary
from bonkl.study.claims import replay_random_reference, worst_random_reference


def main(sm, log):
    chunk = int(sm.wildcards.chunk)
    name, index = worst_random_reference(read_table(sm.input.summary),
                                         "gap_bound_outcomes_with_ties")
    rng = generator(sm.params.seed, "claims_random", chunk)  # the chunk's own draws, replayed
    p, r = replay_random_reference(rng, index, sm.params.max_size)
    log.info("chunk %d: worst reference %s (%d outcomes)", chunk, name, p.size)
    write_table(kl_summary(p, r, sm.params.n_grid).assign(reference=name), sm.output[0])


run(snakemake, main)  # noqa: F821
