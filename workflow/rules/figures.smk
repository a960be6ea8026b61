# Stage figures: one job per stage (figures_<stage>) draws that stage's figures of
# FIGURE_SPECS (declared by the stage rules files), each written to the figures directory
# as PNG, PDF and the plotted data as CSV: a figure job costs seconds of start-up
# (matplotlib, seaborn) for a second of drawing, so a stage's figures share one. The claims
# ledger as Markdown (for the repository) and HTML (for the report).

for _stage, _figures in figure_stages().items():

    rule:
        """A stage's figures, drawn in one job: each as PNG, PDF and its plotted data as CSV."""
        name:
            f"figures_{_stage}"
        input:
            tables=figure_tables(_figures),
            lib=library(
                "figures", *sorted({FIGURE_SPECS[f]["plots"] for f in _figures})
            ),
        output:
            **figure_outputs(_figures),
        log:
            f"{LOGS}/figures_{_stage}.log",
        benchmark:
            f"{BENCHMARKS}/figures_{_stage}.tsv"
        params:
            figures=figure_params(_figures),
        script:
            "../../scripts/figures.py"


rule claims_tables:
    """The claims ledger as Markdown (figures/) and HTML (the report)."""
    input:
        ledger=rules.claims_ledger.output[0],
        lib=library("claims_tables"),
    output:
        markdown=f"{FIGURES}/claims.md",
        html=report(
            f"{FIGURES}/claims.html",
            caption="../report/claims.rst",
            category="Claims ledger",
        ),
    log:
        f"{LOGS}/claims_tables.log",
    benchmark:
        f"{BENCHMARKS}/claims_tables.tsv"
    script:
        "../../scripts/claims_tables.py"
