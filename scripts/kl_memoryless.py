"""Stage kl_constrained: best-of-N against the tilted optimum on one memoryless scenario."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import write_table
from bonkl.study import kl_constrained as study
from bonkl.study.ledger import summarize


def main(sm, log):
    spec, params = sm.params.spec, sm.params
    scenario = sm.wildcards.scenario
    p, r, deltas = spec["p"], spec["r"], spec["deltas"]
    convergence = study.convergence_table(p, r, deltas, params.m_grid, params.reverse_max_m)
    rates = study.rate_table(p, r, deltas, params.rate_m, params.rate_points)
    cumulants = study.cumulant_table(p, r, deltas, params.cumulant_m)
    renyi = study.renyi_table(p, r, deltas, params.renyi_t)
    fit = study.rate_fit(convergence)
    by_start = study.slope_by_start(convergence)
    optimised = study.optimiser_table(p, r, deltas)
    margins = pd.concat([
        study.scenario_margins(scenario, convergence, rates, cumulants, renyi, fit),
        study.optimiser_margins(scenario, optimised),
    ], ignore_index=True)
    log.info("fits of the per-sequence KL and the reverse KL's growth:\n%s\nslope by start:\n%s",
             fit.to_string(), by_start.to_string())
    write_table(convergence, sm.output.convergence)
    write_table(rates, sm.output.rates)
    write_table(study.cumulant_figure_table(cumulants, renyi), sm.output.cumulants)
    write_table(fit, sm.output.fit)
    write_table(by_start, sm.output.fit_by_start)
    write_table(optimised, sm.output.optimiser)
    write_table(summarize(margins, study.CLAIMS.values()), sm.output.claims)


run(snakemake, main)  # noqa: F821
