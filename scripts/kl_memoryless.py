"""Stage kl_constrained: best-of-N against the tilted optimum on one memoryless scenario."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study import kl_constrained as study
from bonkl.study.ledger import summarize


def main(sm, log):
    spec, params = sm.params.spec, sm.params
    p, r, deltas = spec["p"], spec["r"], spec["deltas"]
    convergence = study.convergence_table(p, r, deltas, params.m_grid, params.reverse_max_m)
    rates = study.rate_table(p, r, deltas, params.rate_m, params.rate_points)
    cumulants = study.cumulant_table(p, r, deltas, params.cumulant_m)
    renyi = study.renyi_table(p, r, deltas, params.renyi_t)
    fit = study.rate_fit(convergence)
    margins = study.scenario_margins(sm.wildcards.scenario, convergence, rates, cumulants, renyi,
                                     fit)
    log.info("fits of the per-sequence KL and the reverse KL's growth:\n%s", fit.to_string())
    write_table(convergence, sm.output.convergence)
    write_table(rates, sm.output.rates)
    write_table(cumulants, sm.output.cumulants)
    write_table(fit, sm.output.fit)
    write_table(summarize(margins, study.CLAIMS.values()), sm.output.claims)


run(snakemake, main)  # noqa: F821
