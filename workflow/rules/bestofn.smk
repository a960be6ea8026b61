# Stage bestofn (paper A, sections 2-4): per reference, exact KL of best-of-n, the
# formula, the bounds, the exact expected estimator and its Monte-Carlo estimate.


rule bestofn:
    input:
        reference=f"{RESULTS}/reference/{{reference}}.csv",
        lib=library("bestofn"),
    output:
        f"{RESULTS}/bestofn/{{reference}}.csv",
    params:
        n_grid=N_GRID,
        draws=config["bestofn"]["mc_draws"],
        seed=config["seed"],
    log:
        f"{LOGS}/bestofn/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/bestofn/{{reference}}.tsv"
    script:
        "../../scripts/bestofn.py"


for _figure, _names in reference_lists("bestofn.figures").items():
    FIGURE_SPECS[_figure] = dict(
        tables={name: f"{RESULTS}/bestofn/{name}.csv" for name in _names},
        column="reference",
        plots="bonkl.plots.bestofn",
        category="Paper A: best-of-n",
        subcategory="KL divergence",
    )
