# Stage kl_constrained (paper B): per reference, the optimal KL-constrained frontier against
# best-of-n; per memoryless scenario, best-of-N's convergence to the tilted optimum over an
# m grid, the reverse KL, finite-m tail rates against I(x), and scaled cumulants.
import numpy as np

KLC = config["kl_constrained"]
SCENARIOS = {spec["name"]: spec for spec in KLC["scenarios"]}  # checked in common.smk
KLC_FRONTIER_FRACTIONS = [
    float(x) for x in np.geomspace(1e-4, 1.0, KLC["frontier_points"])
]
KLC_N_GRID = log_integer_grid(KLC["n_grid"]["max"], KLC["n_grid"]["points"])
KLC_M_GRID = log_integer_grid(KLC["m_grid"]["max"], KLC["m_grid"]["points"])


wildcard_constraints:
    scenario="|".join(map(re.escape, SCENARIOS)),


rule kl_frontier:
    """Paper B: the optimal KL-constrained frontier against best-of-n, the shortfall, the closed form against a generic optimiser, and their claims."""
    input:
        reference=rules.reference.output[0],
        lib=library("kl_frontier"),
    output:
        frontier=f"{RESULTS}/kl_constrained/frontier/{{reference}}.csv",
        shortfall=f"{RESULTS}/kl_constrained/shortfall/{{reference}}.csv",
        optimiser=f"{RESULTS}/kl_constrained/optimiser/{{reference}}.csv",
        claims=f"{RESULTS}/claims/kl_constrained/reference/{{reference}}.csv",
    log:
        f"{LOGS}/kl_frontier/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/kl_frontier/{{reference}}.tsv"
    params:
        fractions=KLC_FRONTIER_FRACTIONS,
        n_grid=KLC_N_GRID,
    script:
        "../../scripts/kl_frontier.py"


rule kl_memoryless:
    """Paper B: best-of-N against the tilted optimum for a memoryless model, over the m grid."""
    input:
        lib=library("kl_memoryless"),
    output:
        convergence=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/convergence.csv",
        rates=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/rates.csv",
        cumulants=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/cumulants.csv",
        fit=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/fit.csv",
        fit_by_start=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/fit_by_start.csv",
        optimiser=f"{RESULTS}/kl_constrained/memoryless/{{scenario}}/optimiser.csv",
        claims=f"{RESULTS}/claims/kl_constrained/scenario/{{scenario}}.csv",
    log:
        f"{LOGS}/kl_memoryless/{{scenario}}.log",
    benchmark:
        f"{BENCHMARKS}/kl_memoryless/{{scenario}}.tsv"
    params:
        spec=lambda w: dict(sorted(SCENARIOS[w.scenario].items())),
        m_grid=KLC_M_GRID,
        reverse_max_m=KLC["reverse_max_m"],
        rate_m=KLC["rate_m"],
        rate_points=KLC["rate_points"],
        cumulant_m=KLC["cumulant_m"],
        renyi_t=KLC["renyi_t"],
    script:
        "../../scripts/kl_memoryless.py"


rule kl_tables:
    """Paper B: the convergence, rate-fit, slope-by-start, optimiser and shortfall tables (figures/)."""
    input:
        convergence=expand(rules.kl_memoryless.output.convergence, scenario=SCENARIOS),
        fit=expand(rules.kl_memoryless.output.fit, scenario=SCENARIOS),
        fit_by_start=expand(rules.kl_memoryless.output.fit_by_start, scenario=SCENARIOS),
        optimiser_scenarios=expand(
            rules.kl_memoryless.output.optimiser, scenario=SCENARIOS
        ),
        optimiser_references=expand(
            rules.kl_frontier.output.optimiser, reference=REFERENCES
        ),
        shortfall=expand(rules.kl_frontier.output.shortfall, reference=REFERENCES),
        lib=library("kl_tables"),
    output:
        convergence_csv=f"{FIGURES}/kl_convergence_table.csv",
        convergence_html=report(
            f"{FIGURES}/kl_convergence_table.html",
            caption="../report/kl_convergence_table.rst",
            category="Paper B: KL-constrained RL",
            subcategory="tables",
        ),
        convergence_md=f"{FIGURES}/kl_convergence_table.md",
        fit_csv=f"{FIGURES}/kl_rate_fit.csv",
        fit_html=report(
            f"{FIGURES}/kl_rate_fit.html",
            caption="../report/kl_rate_fit.rst",
            category="Paper B: KL-constrained RL",
            subcategory="tables",
        ),
        fit_md=f"{FIGURES}/kl_rate_fit.md",
        fit_by_start_csv=f"{FIGURES}/kl_rate_fit_by_start.csv",
        fit_by_start_html=report(
            f"{FIGURES}/kl_rate_fit_by_start.html",
            caption="../report/kl_rate_fit_by_start.rst",
            category="Paper B: KL-constrained RL",
            subcategory="tables",
        ),
        fit_by_start_md=f"{FIGURES}/kl_rate_fit_by_start.md",
        optimiser_csv=f"{FIGURES}/kl_optimiser.csv",
        optimiser_html=report(
            f"{FIGURES}/kl_optimiser.html",
            caption="../report/kl_optimiser.rst",
            category="Paper B: KL-constrained RL",
            subcategory="tables",
        ),
        optimiser_md=f"{FIGURES}/kl_optimiser.md",
        shortfall_csv=f"{FIGURES}/kl_shortfall.csv",
        shortfall_html=report(
            f"{FIGURES}/kl_shortfall.html",
            caption="../report/kl_shortfall.rst",
            category="Paper B: KL-constrained RL",
            subcategory="tables",
        ),
        shortfall_md=f"{FIGURES}/kl_shortfall.md",
    log:
        f"{LOGS}/kl_tables.log",
    benchmark:
        f"{BENCHMARKS}/kl_tables.tsv"
    params:
        scenarios=list(SCENARIOS),
        references=list(REFERENCES),
    script:
        "../../scripts/kl_tables.py"


CLAIM_SUMMARIES += expand(rules.kl_frontier.output.claims, reference=REFERENCES)
CLAIM_SUMMARIES += expand(rules.kl_memoryless.output.claims, scenario=SCENARIOS)
TARGETS += [
    f"{FIGURES}/{name}.{ext}"
    for name in (
        "kl_convergence_table",
        "kl_rate_fit",
        "kl_rate_fit_by_start",
        "kl_optimiser",
        "kl_shortfall",
    )
    for ext in ("csv", "md", "html")
]

for _figure, _names in reference_lists("kl_constrained.figures").items():
    FIGURE_SPECS[_figure] = dict(
        tables={
            name: expand(rules.kl_frontier.output.frontier, reference=name)[0]
            for name in _names
        },
        column="reference",
        plots="bonkl.plots.kl_constrained",
        category="Paper B: KL-constrained RL",
        subcategory="frontier",
    )
for _figure, _table in [
    ("kl_convergence", "convergence"),
    ("kl_rate_function", "rates"),
    ("kl_cumulants", "cumulants"),
]:
    FIGURE_SPECS[_figure] = dict(
        tables={
            name: expand(getattr(rules.kl_memoryless.output, _table), scenario=name)[0]
            for name in SCENARIOS
        },
        column="scenario",
        plots="bonkl.plots.kl_constrained",
        category="Paper B: KL-constrained RL",
        subcategory="memoryless asymptotics",
    )
