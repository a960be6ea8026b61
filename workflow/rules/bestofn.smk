# Stage bestofn (paper A, sections 2-4): per reference, exact KL of best-of-n, the
# formula, the bounds, the exact expected estimator and its Monte-Carlo estimate.


rule bestofn:
    """Paper A, sections 2-4: per n, exact KL of best-of-n, the formula, bounds, the exact and Monte-Carlo estimator, and the draws it needs."""
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
        sample_size=order_free(config["bestofn"]["sample_size"]),
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


rule bestofn_random_worst:
    """Paper A: best-of-n KL on the random reference of one claims chunk where Theorem 3.4's outcome form, applied to tied rewards (ours), fails worst."""
    input:
        summary=f"{RESULTS}/claims/random/{{chunk}}.csv",  # rule claims_random (claims.smk)
        lib=library("bestofn_random_worst"),
    output:
        f"{RESULTS}/bestofn/random_worst/{{chunk}}.csv",
    log:
        f"{LOGS}/bestofn_random_worst/{{chunk}}.log",
    benchmark:
        f"{BENCHMARKS}/bestofn_random_worst/{{chunk}}.tsv"
    params:
        n_grid=CLAIMS_N_GRID,
        seed=config["seed"],
        max_size=config["claims"]["max_size"],
    script:
        "../../scripts/bestofn_random_worst.py"


FIGURE_SPECS["kl_gap_bounds_random"] = dict(
    tables={
        f"chunk {chunk}": expand(rules.bestofn_random_worst.output[0], chunk=chunk)[0]
        for chunk in CLAIMS_CHUNKS
    },
    column="chunk",
    plots="bonkl.plots.bestofn",
    category="Paper A: best-of-n",
    subcategory="KL divergence",
)
