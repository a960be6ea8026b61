# Stage figures: one rule per figure (figure_<name>), written to the figures directory
# as PNG, PDF and the plotted data as CSV; the claims ledger as Markdown.

for _figure, _names in config["figures"].items():

    rule:
        name:
            f"figure_{_figure}"
        input:
            tables=expand(f"{RESULTS}/bestofn/{{reference}}.csv", reference=_names),
            lib=library("plots"),
        output:
            png=report(
                f"{FIGURES}/{_figure}.png",
                caption=f"../report/{_figure}.rst",
                category="Paper A: best-of-n",
                subcategory="KL divergence",
            ),
            pdf=f"{FIGURES}/{_figure}.pdf",
            csv=f"{FIGURES}/{_figure}.csv",
        params:
            figure=_figure,
            references=_names,
        log:
            f"{LOGS}/figure_{_figure}.log",
        benchmark:
            f"{BENCHMARKS}/figure_{_figure}.tsv"
        script:
            "../../scripts/figure.py"


rule claims_markdown:
    input:
        ledger=f"{RESULTS}/claims.csv",
        lib=library("tables"),
    output:
        report(
            f"{FIGURES}/claims.md",
            caption="../report/claims.rst",
            category="Claims ledger",
        ),
    log:
        f"{LOGS}/claims_markdown.log",
    benchmark:
        f"{BENCHMARKS}/claims_markdown.tsv"
    script:
        "../../scripts/claims_markdown.py"
