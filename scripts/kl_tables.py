"""Stage kl_constrained: the convergence, rate-fit, slope-by-start, optimiser and shortfall
tables for figures/ (CSV, Markdown, HTML)."""

import pandas as pd

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, read_table, write_table_views
from bonkl.study.kl_constrained import (
    OPTIMISER_MAX_SIZE,
    OPTIMISER_MIN_MASS,
    convergence_summary,
)


def _labelled(paths, labels, column):
    table = read_labelled(paths, labels, column)
    return table[[column, *table.columns.drop(column)]]


def main(sm, log):
    scenarios, references = sm.params.scenarios, sm.params.references
    convergence = convergence_summary({name: read_table(path) for name, path in
                                       zip(scenarios, sm.input.convergence, strict=True)})
    fit = _labelled(sm.input.fit, scenarios, "scenario")
    by_start = _labelled(sm.input.fit_by_start, scenarios, "scenario")
    optimiser = pd.concat([
        _labelled(sm.input.optimiser_references, references, "case"),
        _labelled(sm.input.optimiser_scenarios, [f"{s} (per token)" for s in scenarios],
                  "case"),
    ], ignore_index=True)
    shortfall = _labelled(sm.input.shortfall, references, "reference")
    for table, stem, title, note in [
        (convergence, "convergence",
         "Best-of-N (N = e^{mδ}) against the tilted optimum, per token",
         "Paper B. Per-token reward of best-of-N and of φ_Δ, KL(π_N ‖ p)/m, the formula "
         "(log N − (N−1)/N)/m, and KL(π_N ‖ φ_Δ)/m, at m = 10^k (nats per token). N = e^{mδ} "
         "is real: rows with mδ <= 3 are flagged (small_m_delta) and carry N (n_real) and "
         "best-of-⌊N⌋'s and best-of-⌈N⌉'s reward and KL per token; those cells are empty on "
         "the other rows."),
        (fit, "fit",
         "Fits of the per-sequence KL(π_N ‖ φ_Δ) and of the reverse KL's growth",
         "Least squares over m from m_from to m_to: per sequence, KL(π_N ‖ φ_Δ) ≈ a·log m + b. "
         "Every point is computed exactly, so the residuals (max_abs_residual) are the "
         "curve's deterministic curvature, not noise: a_low and a_high (a ± the 95% t "
         "quantile times the fit's standard error) measure how far the points are from a "
         "line, they are no confidence interval for a; kl_rate_fit_by_start gives a against "
         "the fit's lower end of m. Over the reverse-KL grid (m >= m_from up to "
         "reverse_m_to): log(KL(φ_Δ ‖ π_N)/m) ≈ c·m + d (c_low, c_high: the same spread; "
         "c_over_delta = c/δ), and c3·m + a3·log m + d3 (exponent_fitted: at least four "
         "points), against c_inf = δ − Λ(λ) + 2Λ(λ/2), our large-deviation limit of the "
         "growth rate (c3_over_c_inf; 0 where not fitted)."),
        (by_start, "fit_by_start",
         "The per-sequence slope a of KL(π_N ‖ φ_Δ) ≈ a·log m + b against the fit's lower end",
         "Per scenario and δ, the least-squares fit over m from m_from to m_to (points grid "
         "values, at least three). The points are exact: max_abs_residual is curvature (or "
         "oscillation), not noise, and a's change with m_from, as the small m are left out, "
         "is what tells a ½·log m asymptote from curvature."),
        (optimiser, "optimiser",
         "The closed form φ_Δ against a generic constrained optimiser",
         "Paper B's closed form: max E_φ r subject to KL(φ ‖ p) <= Δ, solved by scipy.optimize "
         "(SLSQP, started at p, no use of the tilted form) on the references with at most "
         f"{OPTIMISER_MAX_SIZE} outcomes and no mass below {OPTIMISER_MIN_MASS:g}, at "
         "Δ = fraction·log 1/p(C*), and on each memoryless "
         "scenario's per-token reference at its δ. reward_closed_form is E_{φ_Δ} r, "
         "reward_optimiser the optimiser's, kl_optimiser its KL (at most Δ), "
         "total_variation the distance between the two policies."),
        (shortfall, "shortfall",
         "Best-of-n's reward shortfall from the optimal frontier at its own KL",
         "kl_to_tilt is KL(π_n ‖ φ_{KL(π_n)}) computed directly; kl_to_tilt_identity is "
         "λ·shortfall from the closeness identity (nats)."),
    ]:
        write_table_views(table, *(getattr(sm.output, f"{stem}_{kind}")
                                   for kind in ("csv", "md", "html")), title=title, note=note)
    log.info("%d convergence rows, %d fits, %d slope-by-start rows, %d optimiser checks, "
             "%d shortfall rows", len(convergence), len(fit), len(by_start), len(optimiser),
             len(shortfall))


run(snakemake, main)  # noqa: F821
