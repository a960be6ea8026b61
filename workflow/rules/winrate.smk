# Stage winrate (paper A, sections 5-7): per reference, best-of-n's exact and sampled win
# rates against n/(n+1), rewind-and-repeat at the reward quantiles, and the win-rate/KL
# trade-off curves (best-of-n, the formula's claim, rewind-and-repeat, the optima); the
# table of best-of-n against the optimum; the stage's claims (per reference, from the
# winrate job's own tables, and in the continuous limit).
import numpy as np

WINRATE = config["winrate"]  # checked by bonkl.pipeline.config_checks (common.smk)
WINRATE_N_GRID = log_integer_grid(WINRATE["n_grid"]["max"], WINRATE["n_grid"]["points"])
WINRATE_BETAS = [
    float(b) for b in np.geomspace(
        WINRATE["optimum_beta"]["min"], WINRATE["optimum_beta"]["max"],
        WINRATE["optimum_beta"]["points"],
    )
]


rule winrate:
    input:
        reference=f"{RESULTS}/reference/{{reference}}.csv",
        lib=library("winrate"),
    output:
        by_n=f"{RESULTS}/winrate/{{reference}}.csv",
        rewind=f"{RESULTS}/rewind/{{reference}}.csv",
        tradeoff=f"{RESULTS}/tradeoff/{{reference}}.csv",
        claims=f"{RESULTS}/claims/winrate/{{reference}}.csv",
    params:
        n_grid=WINRATE_N_GRID,
        pairs=WINRATE["pairs"],
        thresholds=WINRATE["thresholds"],
        betas=WINRATE_BETAS,
        seed=config["seed"],
    log:
        f"{LOGS}/winrate/{{reference}}.log",
    benchmark:
        f"{BENCHMARKS}/winrate/{{reference}}.tsv"
    script:
        "../../scripts/winrate.py"


rule winrate_table:
    input:
        references=expand(f"{RESULTS}/reference/{{reference}}.csv", reference=REFERENCES),
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
    params:
        references=list(REFERENCES),
        n_list=WINRATE["table_n"],
    log:
        f"{LOGS}/winrate_table.log",
    benchmark:
        f"{BENCHMARKS}/winrate_table.tsv"
    script:
        "../../scripts/winrate_table.py"


rule claims_winrate_continuous:
    input:
        lib=library("claims_winrate_continuous"),
    output:
        f"{RESULTS}/claims/winrate_continuous.csv",
    params:
        n_grid=WINRATE_N_GRID,
    log:
        f"{LOGS}/claims_winrate_continuous.log",
    benchmark:
        f"{BENCHMARKS}/claims_winrate_continuous.tsv"
    script:
        "../../scripts/claims_winrate_continuous.py"


CLAIM_SUMMARIES += expand(f"{RESULTS}/claims/winrate/{{reference}}.csv", reference=REFERENCES)
CLAIM_SUMMARIES.append(f"{RESULTS}/claims/winrate_continuous.csv")
TARGETS += [f"{FIGURES}/winrate_table.{ext}" for ext in ("csv", "md", "html")]

_WINRATE_TABLES = {"winrate_vs_n": "winrate", "winrate_tradeoff": "tradeoff",
                   "winrate_rewind": "rewind"}
for _figure, _names in reference_lists("winrate.figures").items():
    FIGURE_SPECS[_figure] = dict(
        tables={name: f"{RESULTS}/{_WINRATE_TABLES[_figure]}/{name}.csv" for name in _names},
        column="reference",
        plots="bonkl.plots.winrate",
        category="Paper A: best-of-n",
        subcategory="Win rate",
    )
