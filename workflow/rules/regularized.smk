# Stage regularized (paper C): exact reverse/forward-KL targets, mode collapse and MARA,
# one job per example of config["regularized"]["examples"] and one per cross-paper
# reference; the claims of paper C; figures 1-5 and the cross-paper figure and table.

REGULARIZED_EXAMPLES = list(config["regularized"]["examples"])
CROSS_PAPER = reference_lists("regularized.cross_paper_figures")["regularized_cross_paper"]


rule regularized_example:
    input:
        lib=library("regularized_example"),
    output:
        table=f"{RESULTS}/regularized/{{example}}.csv",
        margins=f"{RESULTS}/regularized/margins/{{example}}.csv",
    params:
        spec=lambda w: order_free(
            dict(config["regularized"]["examples"][w.example], name=w.example)
        ),
        check_betas=config["regularized"]["check_betas"],
    wildcard_constraints:
        example="|".join(REGULARIZED_EXAMPLES),
    log:
        f"{LOGS}/regularized_example/{{example}}.log",
    benchmark:
        f"{BENCHMARKS}/regularized_example/{{example}}.tsv"
    script:
        "../../scripts/regularized_example.py"


rule regularized_cross_paper:
    input:
        reference=f"{RESULTS}/reference/{{reference}}.csv",
        lib=library("regularized_cross_paper"),
    output:
        table=f"{RESULTS}/regularized/cross_paper/{{reference}}.csv",
        margins=f"{RESULTS}/regularized/margins/cross_paper/{{reference}}.csv",
    params:
        n=config["regularized"]["cross_paper_n"],
    log:
        f"{LOGS}/regularized_cross_paper/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/regularized_cross_paper/{{reference}}.tsv"
    script:
        "../../scripts/regularized_cross_paper.py"


rule regularized_claims:
    input:
        margins=expand(f"{RESULTS}/regularized/margins/{{example}}.csv",
                       example=REGULARIZED_EXAMPLES)
        + expand(f"{RESULTS}/regularized/margins/cross_paper/{{reference}}.csv",
                 reference=CROSS_PAPER),
        lib=library("stage_claims", "bonkl.study.regularized"),
    output:
        f"{RESULTS}/claims/regularized.csv",
    params:
        claims="bonkl.study.regularized",
    log:
        f"{LOGS}/regularized_claims.log",
    benchmark:
        f"{BENCHMARKS}/regularized_claims.tsv"
    script:
        "../../scripts/stage_claims.py"


rule regularized_cross_paper_table:
    input:
        tables=expand(f"{RESULTS}/regularized/cross_paper/{{reference}}.csv",
                      reference=CROSS_PAPER),
        lib=library("regularized_cross_paper_table"),
    output:
        csv=f"{FIGURES}/regularized_cross_paper_table.csv",
        html=report(f"{FIGURES}/regularized_cross_paper_table.html",
                   caption="../report/regularized_cross_paper_table.rst",
                   category="Paper C: KL-regularised targets", subcategory="across papers"),
        md=f"{FIGURES}/regularized_cross_paper_table.md",
    params:
        references=CROSS_PAPER,
    log:
        f"{LOGS}/regularized_cross_paper_table.log",
    benchmark:
        f"{BENCHMARKS}/regularized_cross_paper_table.tsv"
    script:
        "../../scripts/regularized_cross_paper_table.py"


CLAIM_SUMMARIES.append(f"{RESULTS}/claims/regularized.csv")
TARGETS.extend([f"{FIGURES}/regularized_cross_paper_table.{ext}" for ext in ("csv", "md", "html")])

_REGULARIZED_FIGURES = {
    "regularized_policy_fit": ["policy_fit"],
    "regularized_mode_switch": ["mode_switch"],
    "regularized_three_actions": ["three_actions_gap", "three_actions_tie"],
    "regularized_mara_bins": ["mara_bins"],
}
for _figure, _examples in _REGULARIZED_FIGURES.items():
    FIGURE_SPECS[_figure] = dict(
        tables={name: f"{RESULTS}/regularized/{name}.csv" for name in _examples},
        column="example",
        plots="bonkl.plots.regularized",
        category="Paper C: KL-regularised targets",
        subcategory="mode collapse and MARA",
    )
FIGURE_SPECS["regularized_cross_paper"] = dict(
    tables={name: f"{RESULTS}/regularized/cross_paper/{name}.csv" for name in CROSS_PAPER},
    column="reference",
    plots="bonkl.plots.regularized",
    category="Paper C: KL-regularised targets",
    subcategory="across papers",
)
