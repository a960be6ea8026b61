# Stage estimators (issue 22, ours): the sampled estimators of bonkl.sampled against the exact
# KL and win rate of known-law models (bonkl.reward_laws): one job per model, the table over
# models (figures/), the ledger rows of the accuracy goal, and the figure.
EST = config["estimators"]


wildcard_constraints:
    model="|".join(map(re.escape, EST["models"])),


rule estimators:
    """Issue 22's ground truth: every estimator on one known-law model, per N and n."""
    input:
        lib=library("estimators"),
    output:
        f"{RESULTS}/estimators/{{model}}.csv",
    log:
        f"{LOGS}/estimators/{{model}}.log",
    benchmark:
        f"{BENCHMARKS}/estimators/{{model}}.tsv"
    params:
        estimators=EST["estimators"],
        runs=[order_free(run) for run in EST["runs"]],
        n=EST["n"],
        level=EST["level"],
        seed=config["seed"],
    script:
        "../../scripts/estimators.py"


rule estimators_table:
    """The ground-truth table over models (figures/) and the ledger margins of the goal."""
    input:
        tables=expand(rules.estimators.output[0], model=EST["models"]),
        lib=library("estimators_table"),
    output:
        margins=f"{RESULTS}/estimators/margins.csv",
        csv=f"{FIGURES}/estimators_table.csv",
        html=report(
            f"{FIGURES}/estimators_table.html",
            caption="../report/estimators_table.rst",
            category="Paper A: best-of-n",
            subcategory="Estimators from samples (ours)",
        ),
        md=f"{FIGURES}/estimators_table.md",
    log:
        f"{LOGS}/estimators_table.log",
    benchmark:
        f"{BENCHMARKS}/estimators_table.tsv"
    params:
        goal=order_free(EST["goal"]),
        level=EST["level"],
    script:
        "../../scripts/estimators_table.py"


rule estimators_claims:
    """The ledger rows of the sampled estimators' accuracy goal."""
    input:
        margins=[rules.estimators_table.output.margins],
        lib=library("stage_claims", "bonkl.study.estimators"),
    output:
        f"{RESULTS}/claims/estimators.csv",
    log:
        f"{LOGS}/estimators_claims.log",
    benchmark:
        f"{BENCHMARKS}/estimators_claims.tsv"
    params:
        claims="bonkl.study.estimators",
    script:
        "../../scripts/stage_claims.py"


CLAIM_SUMMARIES.append(rules.estimators_claims.output[0])
TARGETS.extend([f"{FIGURES}/estimators_table.{ext}" for ext in ("csv", "md", "html")])
FIGURE_SPECS["estimators_accuracy"] = dict(
    tables={"ground truth": rules.estimators_table.output.csv},
    column="study",
    plots="bonkl.plots.estimators",
    category="Paper A: best-of-n",
    subcategory="Estimators from samples (ours)",
)
