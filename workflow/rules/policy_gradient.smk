# Stage policy_gradient (paper C's LLM "1 or 2" experiment, scaled down to NumPy): per task
# a reference pretrained on a biased corpus; one job per (task, regularizer, method, beta,
# seed) of sampled policy-gradient training; per task an aggregate of its runs; the ledger
# rows; a summary table and three figures.
PG = config["policy_gradient"]  # checked by bonkl.pipeline.config_checks (common.smk)
PG_SPECS = {spec["name"]: spec for spec in PG["tasks"]}
PG_TASKS = list(PG_SPECS)
PG_BETAS = {repr(float(beta)): float(beta) for beta in PG["betas"]}  # wildcard -> β
PG_RUN = (f"{RESULTS}/policy_gradient/runs/{{task}}/{{regularizer}}/{{method}}/"
          "beta={beta}/seed={seed}")


def _runs(task):
    """(wildcards, labels) of every run of ``task``, in one fixed order."""
    return [(dict(task=task, regularizer=regularizer, method=method, beta=label, seed=seed),
             dict(regularizer=regularizer, method=method, beta=beta, seed=seed))
            for regularizer in PG["regularizers"] for method in PG["methods"]
            for label, beta in PG_BETAS.items() for seed in range(PG["seeds"])]


def _run_files(name):
    return lambda w: [f"{PG_RUN}/{name}.csv".format(**wildcards)
                      for wildcards, _ in _runs(w.task)]


wildcard_constraints:
    task="|".join(map(re.escape, PG_TASKS)),
    regularizer="reverse|forward",
    method="vanilla|mara",


rule policy_gradient_reference:
    input:
        lib=library("policy_gradient_reference"),
    output:
        f"{RESULTS}/policy_gradient/{{task}}/reference.csv",
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        seed=config["seed"],
    log:
        f"{LOGS}/policy_gradient_reference/{{task}}.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_reference/{{task}}.tsv"
    script:
        "../../scripts/policy_gradient_reference.py"


rule policy_gradient_run:
    input:
        reference=f"{RESULTS}/policy_gradient/{{task}}/reference.csv",
        lib=library("policy_gradient_run"),
    output:
        curve=f"{PG_RUN}/curve.csv",
        final=f"{PG_RUN}/final.csv",
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        training=order_free(PG["training"]),
        mara_tau=PG["mara_tau"],
        coverage_share=PG["judging"]["coverage_share"],
        beta=lambda w: PG_BETAS[w.beta],
        seed=config["seed"],
    wildcard_constraints:
        beta="|".join(map(re.escape, PG_BETAS)),
        seed=r"\d+",
    log:
        f"{LOGS}/policy_gradient_run/{{task}}/{{regularizer}}/{{method}}/beta={{beta}}/"
        "seed={seed}.log",
    benchmark:
        (f"{BENCHMARKS}/policy_gradient_run/{{task}}/{{regularizer}}/{{method}}/"
         "beta={beta}/seed={seed}.tsv")
    script:
        "../../scripts/policy_gradient_run.py"


rule policy_gradient_aggregate:
    input:
        reference=f"{RESULTS}/policy_gradient/{{task}}/reference.csv",
        curves=_run_files("curve"),
        finals=_run_files("final"),
        lib=library("policy_gradient_aggregate"),
    output:
        runs=f"{RESULTS}/policy_gradient/{{task}}/runs.csv",
        curves=f"{RESULTS}/policy_gradient/{{task}}/curves.csv",
        final=f"{RESULTS}/policy_gradient/{{task}}/final.csv",
        margins=f"{RESULTS}/policy_gradient/margins/{{task}}.csv",
    params:
        spec=lambda w: order_free(PG_SPECS[w.task]),
        runs=lambda w: [labels for _, labels in _runs(w.task)],
        judging=order_free(PG["judging"]),
        claim_betas=PG["claim_betas"],
        figure_beta=PG["figure_beta"],
    log:
        f"{LOGS}/policy_gradient_aggregate/{{task}}.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_aggregate/{{task}}.tsv"
    script:
        "../../scripts/policy_gradient_aggregate.py"


rule policy_gradient_claims:
    input:
        margins=expand(f"{RESULTS}/policy_gradient/margins/{{task}}.csv", task=PG_TASKS),
        lib=library("stage_claims", "bonkl.study.policy_gradient"),
    output:
        f"{RESULTS}/claims/policy_gradient.csv",
    params:
        claims="bonkl.study.policy_gradient",
    log:
        f"{LOGS}/policy_gradient_claims.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_claims.tsv"
    script:
        "../../scripts/stage_claims.py"


rule policy_gradient_table:
    input:
        runs=expand(f"{RESULTS}/policy_gradient/{{task}}/runs.csv", task=PG_TASKS),
        lib=library("policy_gradient_table"),
    output:
        csv=f"{FIGURES}/policy_gradient_table.csv",
        html=report(f"{FIGURES}/policy_gradient_table.html",
                    caption="../report/policy_gradient_table.rst",
                    category="Paper C: KL-regularised targets",
                    subcategory="sampled policy gradient (NumPy analogue)"),
        md=f"{FIGURES}/policy_gradient_table.md",
    params:
        tasks=PG_TASKS,
    log:
        f"{LOGS}/policy_gradient_table.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_table.tsv"
    script:
        "../../scripts/policy_gradient_table.py"


CLAIM_SUMMARIES.append(f"{RESULTS}/claims/policy_gradient.csv")
TARGETS.extend([f"{FIGURES}/policy_gradient_table.{ext}" for ext in ("csv", "md", "html")])
for _figure, _table in [("policy_gradient_pareto", "runs"), ("policy_gradient_curves", "curves"),
                        ("policy_gradient_final", "final")]:
    FIGURE_SPECS[_figure] = dict(
        tables={task: f"{RESULTS}/policy_gradient/{task}/{_table}.csv" for task in PG_TASKS},
        column="task",
        plots="bonkl.plots.policy_gradient",
        category="Paper C: KL-regularised targets",
        subcategory="sampled policy gradient (NumPy analogue)",
    )
