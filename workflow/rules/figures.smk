# Stage figures: one rule per figure of FIGURE_SPECS (figure_<name>, declared by the stage
# rules files), written to the figures directory as PNG, PDF and the plotted data as CSV;
# the claims ledger as Markdown (for the repository) and HTML (for the report).

for _figure, _spec in FIGURE_SPECS.items():

    rule:
        """One figure of the study: PNG, PDF and the plotted data as CSV."""
        name:
            f"figure_{_figure}"
        input:
            tables=list(_spec["tables"].values()),
            lib=library("figure", _spec["plots"]),
        output:
            png=report(
                f"{FIGURES}/{_figure}.png",
                caption=f"../report/{_figure}.rst",
                category=_spec["category"],
                subcategory=_spec["subcategory"],
            ),
            pdf=f"{FIGURES}/{_figure}.pdf",
            csv=f"{FIGURES}/{_figure}.csv",
        log:
            f"{LOGS}/figure_{_figure}.log",
        benchmark:
            f"{BENCHMARKS}/figure_{_figure}.tsv"
        params:
            figure=_figure,
            plots=_spec["plots"],
            column=_spec["column"],
            labels=list(_spec["tables"]),
        script:
            "../../scripts/figure.py"


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
