# Stage regularized (paper C): exact reverse/forward-KL targets, mode collapse and MARA,
# one job per example of config["regularized"]["examples"] and one per cross-paper
# reference; the claims of paper C; figures 1-5 and the cross-paper figure and table.

REGULARIZED_EXAMPLES = list(config["regularized"]["examples"])
CROSS_PAPER = reference_lists("regularized.cross_paper_figures")[
    "regularized_cross_paper"
]


rule regularized_example:
    """Paper C, Figs. 1-5: exact reverse/forward-KL and MARA targets of one example, and claim margins."""
    input:
        lib=library("regularized_example"),
    output:
        table=f"{RESULTS}/regularized/{{example}}.csv",
        margins=f"{RESULTS}/regularized/margins/{{example}}.csv",
    log:
        f"{LOGS}/regularized_example/{{example}}.log",
    benchmark:
        f"{BENCHMARKS}/regularized_example/{{example}}.tsv"
    wildcard_constraints:
        example="|".join(REGULARIZED_EXAMPLES),
    params:
        spec=lambda w: order_free(
            dict(config["regularized"]["examples"][w.example], name=w.example)
        ),
        check_betas=config["regularized"]["check_betas"],
    script:
        "../../scripts/regularized_example.py"


rule regularized_cross_paper:
    """Papers A-C on one reference: best-of-n, the KL-constrained optimum and the regularised targets."""
    input:
        reference=rules.reference.output[0],
        lib=library("regularized_cross_paper"),
    output:
        table=f"{RESULTS}/regularized/cross_paper/{{reference}}.csv",
        margins=f"{RESULTS}/regularized/margins/cross_paper/{{reference}}.csv",
    log:
        f"{LOGS}/regularized_cross_paper/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/regularized_cross_paper/{{reference}}.tsv"
    params:
        n=config["regularized"]["cross_paper_n"],
    script:
        "../../scripts/regularized_cross_paper.py"


rule regularized_claims:
    """Paper C's ledger rows, from the margins of every example and cross-paper reference."""
    input:
        margins=expand(
            rules.regularized_example.output.margins, example=REGULARIZED_EXAMPLES
        )
        + expand(rules.regularized_cross_paper.output.margins, reference=CROSS_PAPER),
        lib=library("stage_claims", "bonkl.study.regularized"),
    output:
        f"{RESULTS}/claims/regularized.csv",
    log:
        f"{LOGS}/regularized_claims.log",
    benchmark:
        f"{BENCHMARKS}/regularized_claims.tsv"
    params:
        claims="bonkl.study.regularized",
    script:
        "../../scripts/stage_claims.py"


rule regularized_cross_paper_table:
    """The cross-paper comparison as a table (figures/)."""
    input:
        tables=expand(rules.regularized_cross_paper.output.table, reference=CROSS_PAPER),
        lib=library("regularized_cross_paper_table"),
    output:
        csv=f"{FIGURES}/regularized_cross_paper_table.csv",
        html=report(
            f"{FIGURES}/regularized_cross_paper_table.html",
            caption="../report/regularized_cross_paper_table.rst",
            category="Paper C: KL-regularised targets",
            subcategory="across papers",
        ),
        md=f"{FIGURES}/regularized_cross_paper_table.md",
    log:
        f"{LOGS}/regularized_cross_paper_table.log",
    benchmark:
        f"{BENCHMARKS}/regularized_cross_paper_table.tsv"
    params:
        references=CROSS_PAPER,
    script:
        "../../scripts/regularized_cross_paper_table.py"


CLAIM_SUMMARIES.append(rules.regularized_claims.output[0])
TARGETS.extend(
    [f"{FIGURES}/regularized_cross_paper_table.{ext}" for ext in ("csv", "md", "html")]
)

_REGULARIZED_FIGURES = {
    "regularized_policy_fit": ["policy_fit"],
    "regularized_mode_switch": ["mode_switch"],
    "regularized_three_actions": ["three_actions_gap", "three_actions_tie"],
    "regularized_mara_bins": ["mara_bins"],
}
for _figure, _examples in _REGULARIZED_FIGURES.items():
    FIGURE_SPECS[_figure] = dict(
        tables={
            name: expand(rules.regularized_example.output.table, example=name)[0]
            for name in _examples
        },
        column="example",
        plots="bonkl.plots.regularized",
        category="Paper C: KL-regularised targets",
        subcategory="mode collapse and MARA",
    )
FIGURE_SPECS["regularized_cross_paper"] = dict(
    tables={
        name: expand(rules.regularized_cross_paper.output.table, reference=name)[0]
        for name in CROSS_PAPER
    },
    column="reference",
    plots="bonkl.plots.regularized",
    category="Paper C: KL-regularised targets",
    subcategory="across papers",
)
