# Stage policy_gradient (paper C's LLM "1 or 2" experiment, scaled down to NumPy): per task
# a reference pretrained on a biased corpus; one job per (task, regularizer, method, beta,
# seed) of sampled policy-gradient training; per task an aggregate of its runs; the ledger
# rows; a summary table and three figures.
PG = config["policy_gradient"]  # checked by bonkl.pipeline.config_checks (common.smk)
PG_SPECS = {spec["name"]: spec for spec in PG["tasks"]}
PG_TASKS = list(PG_SPECS)
PG_BETAS = {repr(float(beta)): float(beta) for beta in PG["betas"]}  # wildcard -> β
PG_RUN = (
    f"{RESULTS}/policy_gradient/runs/{{task}}/{{regularizer}}/{{method}}/"
    "beta={beta}/seed={seed}"
)


wildcard_constraints:
    task="|".join(map(re.escape, PG_TASKS)),
    regularizer="reverse|forward",
    method="vanilla|mara",


rule policy_gradient_reference:
    """Paper C's sampled-RL analogue: a task's reference policy, pretrained on its corpus."""
    input:
        lib=library("policy_gradient_reference"),
    output:
        f"{RESULTS}/policy_gradient/{{task}}/reference.csv",
    log:
        f"{LOGS}/policy_gradient_reference/{{task}}.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_reference/{{task}}.tsv"
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        seed=config["seed"],
    script:
        "../../scripts/policy_gradient_reference.py"


rule policy_gradient_run:
    """One sampled policy-gradient run: training curve and final distribution."""
    input:
        reference=rules.policy_gradient_reference.output[0],
        lib=library("policy_gradient_run"),
    output:
        curve=f"{PG_RUN}/curve.csv",
        final=f"{PG_RUN}/final.csv",
    log:
        f"{LOGS}/policy_gradient_run/{{task}}/{{regularizer}}/{{method}}/beta={{beta}}/"
        "seed={seed}.log",
    benchmark:
        (
            f"{BENCHMARKS}/policy_gradient_run/{{task}}/{{regularizer}}/{{method}}/"
            "beta={beta}/seed={seed}.tsv"
        )
    wildcard_constraints:
        beta="|".join(map(re.escape, PG_BETAS)),
        seed=r"\d+",
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        training=order_free(PG["training"]),
        mara_tau=PG["mara_tau"],
        coverage_share=PG["judging"]["coverage_share"],
        beta=lambda w: PG_BETAS[w.beta],
        seed=config["seed"],
    script:
        "../../scripts/policy_gradient_run.py"


rule policy_gradient_aggregate:
    """A task's runs gathered and judged against their exact targets."""
    input:
        reference=rules.policy_gradient_reference.output[0],
        curves=pg_run_files("curve"),
        finals=pg_run_files("final"),
        lib=library("policy_gradient_aggregate"),
    output:
        runs=f"{RESULTS}/policy_gradient/{{task}}/runs.csv",
        curves=f"{RESULTS}/policy_gradient/{{task}}/curves.csv",
        final=f"{RESULTS}/policy_gradient/{{task}}/final.csv",
        margins=f"{RESULTS}/policy_gradient/margins/{{task}}.csv",
    log:
        f"{LOGS}/policy_gradient_aggregate/{{task}}.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_aggregate/{{task}}.tsv"
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        runs=lambda w: [labels for _, labels in pg_runs(w.task)],
        judging=order_free(PG["judging"]),
        claim_betas=PG["claim_betas"],
        figure_beta=PG["figure_beta"],
    script:
        "../../scripts/policy_gradient_aggregate.py"


rule policy_gradient_claims:
    """The ledger rows of the sampled-RL analogue."""
    input:
        margins=expand(rules.policy_gradient_aggregate.output.margins, task=PG_TASKS),
        lib=library("stage_claims", "bonkl.study.policy_gradient"),
    output:
        f"{RESULTS}/claims/policy_gradient.csv",
    log:
        f"{LOGS}/policy_gradient_claims.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_claims.tsv"
    params:
        claims="bonkl.study.policy_gradient",
    script:
        "../../scripts/stage_claims.py"


rule policy_gradient_table:
    """The sampled-RL summary table (figures/)."""
    input:
        runs=expand(rules.policy_gradient_aggregate.output.runs, task=PG_TASKS),
        lib=library("policy_gradient_table"),
    output:
        csv=f"{FIGURES}/policy_gradient_table.csv",
        html=report(
            f"{FIGURES}/policy_gradient_table.html",
            caption="../report/policy_gradient_table.rst",
            category="Paper C: KL-regularised targets",
            subcategory="sampled policy gradient (NumPy analogue)",
        ),
        md=f"{FIGURES}/policy_gradient_table.md",
    log:
        f"{LOGS}/policy_gradient_table.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_table.tsv"
    params:
        tasks=PG_TASKS,
    script:
        "../../scripts/policy_gradient_table.py"


CLAIM_SUMMARIES.append(rules.policy_gradient_claims.output[0])
TARGETS.extend(
    [f"{FIGURES}/policy_gradient_table.{ext}" for ext in ("csv", "md", "html")]
)
for _figure, _table in [
    ("policy_gradient_pareto", "runs"),
    ("policy_gradient_curves", "curves"),
    ("policy_gradient_final", "final"),
]:
    FIGURE_SPECS[_figure] = dict(
        tables={
            task: expand(
                getattr(rules.policy_gradient_aggregate.output, _table), task=task
            )[0]
            for task in PG_TASKS
        },
        column="task",
        plots="bonkl.plots.policy_gradient",
        category="Paper C: KL-regularised targets",
        subcategory="sampled policy gradient (NumPy analogue)",
    )
