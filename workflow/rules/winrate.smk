# Stage winrate (paper A, sections 5-7): per reference, best-of-n's exact and sampled win
# rates against n/(n+1), rewind-and-repeat at the reward quantiles, and the win-rate/KL
# trade-off curves (best-of-n, the formula's claim, rewind-and-repeat, the optima); the
# table of best-of-n against the optimum; the stage's claims (per reference, from the
# winrate job's own tables, and in the continuous limit).
import numpy as np

WINRATE = config["winrate"]  # checked by bonkl.pipeline.config_checks (common.smk)
WINRATE_N_GRID = log_integer_grid(WINRATE["n_grid"]["max"], WINRATE["n_grid"]["points"])
WINRATE_BETAS = [
    float(b)
    for b in np.geomspace(
        WINRATE["optimum_beta"]["min"],
        WINRATE["optimum_beta"]["max"],
        WINRATE["optimum_beta"]["points"],
    )
]


rule winrate:
    """Paper A, sections 5-7: exact and sampled win rates, rewind-and-repeat, the win-rate/KL trade-offs, and their claims."""
    input:
        reference=rules.reference.output[0],
        lib=library("winrate"),
    output:
        by_n=f"{RESULTS}/winrate/{{reference}}.csv",
        rewind=f"{RESULTS}/rewind/{{reference}}.csv",
        tradeoff=f"{RESULTS}/tradeoff/{{reference}}.csv",
        claims=f"{RESULTS}/claims/winrate/{{reference}}.csv",
    log:
        f"{LOGS}/winrate/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/winrate/{{reference}}.tsv"
    params:
        n_grid=WINRATE_N_GRID,
        pairs=WINRATE["pairs"],
        thresholds=WINRATE["thresholds"],
        betas=WINRATE_BETAS,
        seed=config["seed"],
    script:
        "../../scripts/winrate.py"


rule winrate_table:
    """Paper A: best-of-n's win rate and KL against the optimum at the same KL, and the worst margin of our equal-KL reading, per reference (figures/)."""
    input:
        references=expand(rules.reference.output[0], reference=REFERENCES),
        lib=library("winrate_table"),
    output:
        csv=f"{FIGURES}/winrate_table.csv",
        html=report(
            f"{FIGURES}/winrate_table.html",
            caption="../report/winrate_table.rst",
            category="Paper A: best-of-n",
            subcategory="Win rate",
        ),
        md=f"{FIGURES}/winrate_table.md",
        equal_kl_csv=f"{FIGURES}/winrate_equal_kl.csv",
        equal_kl_html=report(
            f"{FIGURES}/winrate_equal_kl.html",
            caption="../report/winrate_equal_kl.rst",
            category="Paper A: best-of-n",
            subcategory="Win rate",
        ),
        equal_kl_md=f"{FIGURES}/winrate_equal_kl.md",
    log:
        f"{LOGS}/winrate_table.log",
    benchmark:
        f"{BENCHMARKS}/winrate_table.tsv"
    params:
        references=list(REFERENCES),
        n_list=WINRATE["table_n"],
        n_grid=WINRATE_N_GRID,
    script:
        "../../scripts/winrate_table.py"


rule claims_winrate_continuous:
    """Paper A's win-rate claims in the continuous limit (no reference needed)."""
    input:
        lib=library("claims_winrate_continuous"),
    output:
        f"{RESULTS}/claims/winrate_continuous.csv",
    log:
        f"{LOGS}/claims_winrate_continuous.log",
    benchmark:
        f"{BENCHMARKS}/claims_winrate_continuous.tsv"
    params:
        n_grid=WINRATE_N_GRID,
    script:
        "../../scripts/claims_winrate_continuous.py"


CLAIM_SUMMARIES += expand(rules.winrate.output.claims, reference=REFERENCES)
CLAIM_SUMMARIES.append(rules.claims_winrate_continuous.output[0])
TARGETS += [
    f"{FIGURES}/{name}.{ext}"
    for name in ("winrate_table", "winrate_equal_kl")
    for ext in ("csv", "md", "html")
]

_WINRATE_TABLES = {
    "winrate_vs_n": "by_n",
    "winrate_tradeoff": "tradeoff",
    "winrate_rewind": "rewind",
}
for _figure, _names in reference_lists("winrate.figures").items():
    FIGURE_SPECS[_figure] = dict(
        tables={
            name: expand(
                getattr(rules.winrate.output, _WINRATE_TABLES[_figure]), reference=name
            )[0]
            for name in _names
        },
        column="reference",
        plots="bonkl.plots.winrate",
        category="Paper A: best-of-n",
        subcategory="Win rate",
    )
