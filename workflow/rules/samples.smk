# Stage samples (paper A, Fig. 4 on a sampling run): the config's file of sampled completions,
# per reward of samples.rewards: per (prompt, n, estimator) the estimates with intervals of
# bonkl.sampled (and the exact values when the file was drawn from a known-law model), the
# summary over prompts; the tables (figures/), the findings fragment and the figure.


rule samples:
    """Paper A, Fig. 4 on a sample file: per prompt, n and estimator, the KL and win rate with intervals (and the exact values with a known law), for one reward."""
    input:
        samples=config["samples"]["path"],
        lib=library("samples"),
    output:
        per_prompt=f"{RESULTS}/samples/{{reward}}/per_prompt.csv",
        summary=f"{RESULTS}/samples/{{reward}}/summary.csv",
    log:
        f"{LOGS}/samples/{{reward}}.log",
    benchmark:
        f"{BENCHMARKS}/samples/{{reward}}.tsv"
    params:
        section=order_free(config["samples"]),
        n_grid=SAMPLES_N_GRID,
    script:
        "../../scripts/samples.py"


rule samples_tables:
    """Paper A, Fig. 4 on a sample file: the per-prompt table, the summary over prompts and the findings fragment, every reward (figures/)."""
    input:
        per_prompt=expand(rules.samples.output.per_prompt, reward=SAMPLE_REWARDS),
        summary=expand(rules.samples.output.summary, reward=SAMPLE_REWARDS),
        lib=library("samples_tables"),
    output:
        per_prompt_csv=f"{FIGURES}/samples_per_prompt.csv",
        per_prompt_html=report(
            f"{FIGURES}/samples_per_prompt.html",
            caption="../report/samples_per_prompt.rst",
            category="Paper A: best-of-n",
            subcategory="Your own samples",
        ),
        per_prompt_md=f"{FIGURES}/samples_per_prompt.md",
        summary_csv=f"{FIGURES}/samples_summary.csv",
        summary_html=report(
            f"{FIGURES}/samples_summary.html",
            caption="../report/samples_summary.rst",
            category="Paper A: best-of-n",
            subcategory="Your own samples",
        ),
        summary_md=f"{FIGURES}/samples_summary.md",
        findings=f"{FIGURES}/samples_findings.md",
    log:
        f"{LOGS}/samples_tables.log",
    benchmark:
        f"{BENCHMARKS}/samples_tables.tsv"
    params:
        rewards=SAMPLE_REWARDS,
        path=config["samples"]["path"],
    script:
        "../../scripts/samples_tables.py"


FIGURE_SPECS["samples_kl"] = dict(
    tables={
        reward: expand(rules.samples.output.per_prompt, reward=reward)[0]
        for reward in SAMPLE_REWARDS
    },
    column="reward",
    plots="bonkl.plots.samples",
    category="Paper A: best-of-n",
    subcategory="Your own samples",
)
TARGETS += list(rules.samples_tables.output)
FINDINGS["samples"] = rules.samples_tables.output.findings
