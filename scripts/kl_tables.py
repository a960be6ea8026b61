"""Stage kl_constrained: the convergence, rate-fit and shortfall tables for figures/
(CSV, Markdown, HTML)."""

from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled, read_table, write_table_views
from bonkl.study.kl_constrained import convergence_summary


def _labelled(paths, labels, column):
    table = read_labelled(paths, labels, column)
    return table[[column, *table.columns.drop(column)]]


def main(sm, log):
    scenarios = sm.params.scenarios
    convergence = convergence_summary({name: read_table(path) for name, path in
                                       zip(scenarios, sm.input.convergence, strict=True)})
    fit = _labelled(sm.input.fit, scenarios, "scenario")
    shortfall = _labelled(sm.input.shortfall, sm.params.references, "reference")
    for table, csv, md, html, title, note in [
        (convergence, sm.output.convergence_csv, sm.output.convergence_md,
         sm.output.convergence_html,
         "Best-of-N (N = e^{mδ}) against the tilted optimum, per token",
         "Paper B. Per-token reward of best-of-N and of φ_Δ, KL(π_N ‖ p)/m, the formula "
         "(log N − (N−1)/N)/m, and KL(π_N ‖ φ_Δ)/m, at m = 10^k (nats per token). N = e^{mδ} "
         "is real: rows with mδ <= 3 are flagged (small_m_delta) and carry best-of-⌊N⌋'s and "
         "best-of-⌈N⌉'s reward and KL per token (0 on the other rows)."),
        (fit, sm.output.fit_csv, sm.output.fit_md, sm.output.fit_html,
         "Fits of the per-sequence KL(π_N ‖ φ_Δ) and of the reverse KL's growth",
         "Least squares over m from m_from to m_to: per sequence, KL(π_N ‖ φ_Δ) ≈ a·log m + b "
         "(a_low, a_high: its 95% interval); over the reverse-KL grid (m >= m_from up to "
         "reverse_m_to), log(KL(φ_Δ ‖ π_N)/m) ≈ c·m + d (c_low, c_high; c_over_delta = c/δ)."),
        (shortfall, sm.output.shortfall_csv, sm.output.shortfall_md, sm.output.shortfall_html,
         "Best-of-n's reward shortfall from the optimal frontier at its own KL",
         "kl_to_tilt is KL(π_n ‖ φ_{KL(π_n)}) computed directly; kl_to_tilt_identity is "
         "λ·shortfall from the closeness identity (nats)."),
    ]:
        write_table_views(table, csv, md, html, title=title, note=note)
    log.info("%d convergence rows, %d fits, %d shortfall rows", len(convergence), len(fit),
             len(shortfall))


run(snakemake, main)  # noqa: F821
