# Stage bestofn (paper A, sections 2-4): per reference, exact KL of best-of-n, the
# formula, the bounds, the exact expected estimator and its Monte-Carlo estimate.


rule bestofn:
    """Paper A, sections 2-4: per n, exact KL of best-of-n, the formula, bounds, the exact and Monte-Carlo estimator."""
    input:
        reference=rules.reference.output[0],
        lib=library("bestofn"),
    output:
        f"{RESULTS}/bestofn/{{reference}}.csv",
    log:
        f"{LOGS}/bestofn/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/bestofn/{{reference}}.tsv"
    params:
        n_grid=N_GRID,
        draws=config["bestofn"]["mc_draws"],
        seed=config["seed"],
    script:
        "../../scripts/bestofn.py"


for _figure, _names in reference_lists("bestofn.figures").items():
    FIGURE_SPECS[_figure] = dict(
        tables={
            name: expand(rules.bestofn.output[0], reference=name)[0] for name in _names
        },
        column="reference",
        plots="bonkl.plots.bestofn",
        category="Paper A: best-of-n",
        subcategory="KL divergence",
    )
