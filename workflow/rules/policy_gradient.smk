# Stage policy_gradient (paper C's LLM "1 or 2" experiment as a NumPy analogue): every
# task's reference pretrained on its corpus (one job); the stage's runs (the union of the
# config's sweeps) split into `jobs` training jobs of near-equal cost, each training its
# runs per task, policy kind and step count as one vectorised computation; one aggregate
# job judging every run at every step budget, writing the pooled readings of the paper's
# statements, the ledger margins, the summary table and the findings fragment; the ledger
# rows; six figures.
PG = config["policy_gradient"]  # checked by bonkl.pipeline.config_checks (common.smk)
PG_SPECS = {name: spec for name, spec, _ in expand_tasks(PG["tasks"])}
PG_TASKS = list(PG_SPECS)
PG_RUNS = stage_runs(PG)


wildcard_constraints:
    task="|".join(map(re.escape, PG_TASKS)),
    job=r"\d+",


rule policy_gradient_references:
    """Paper C's sampled-RL analogue: every task's reference, pretrained on its corpus."""
    input:
        lib=library("policy_gradient_reference"),
    output:
        expand(f"{RESULTS}/policy_gradient/references/{{task}}.csv", task=PG_TASKS),
    log:
        f"{LOGS}/policy_gradient_references.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_references.tsv"
    params:
        specs={name: order_free(spec) for name, spec in PG_SPECS.items()},
        seed=config["seed"],
    script:
        "../../scripts/policy_gradient_reference.py"


rule policy_gradient_train:
    """One training job: its slice of the runs, per task as one vectorised computation."""
    input:
        references=rules.policy_gradient_references.output,
        lib=library("policy_gradient_train"),
    output:
        curves=f"{RESULTS}/policy_gradient/jobs/{{job}}/curves.csv",
        final=f"{RESULTS}/policy_gradient/jobs/{{job}}/final.csv",
    log:
        f"{LOGS}/policy_gradient_train/{{job}}.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_train/{{job}}.tsv"
    params:
        runs=lambda w: job_runs(PG_RUNS, PG["jobs"], int(w.job)),
        specs={name: order_free(spec) for name, spec in PG_SPECS.items()},
        training=order_free(PG["training"]),
        dynamics=[order_free(d) for d in PG["dynamics"]],
        mlp=order_free(PG["mlp"]),
        mara_tau=PG["mara_tau"],
        coverage_share=PG["judging"]["coverage_share"],
        seed=config["seed"],
    script:
        "../../scripts/policy_gradient_train.py"


rule policy_gradient_aggregate:
    """Every run judged against its exact target; ledger margins; the summary table."""
    input:
        references=rules.policy_gradient_references.output,
        curves=expand(rules.policy_gradient_train.output.curves, job=range(PG["jobs"])),
        finals=expand(rules.policy_gradient_train.output.final, job=range(PG["jobs"])),
        lib=library("policy_gradient_aggregate"),
    output:
        runs=expand(f"{RESULTS}/policy_gradient/runs/{{task}}.csv", task=PG_TASKS),
        curves=expand(f"{RESULTS}/policy_gradient/curves/{{task}}.csv", task=PG_TASKS),
        final=expand(f"{RESULTS}/policy_gradient/final/{{task}}.csv", task=PG_TASKS),
        pooled=f"{RESULTS}/policy_gradient/pooled.csv",
        budgets=f"{RESULTS}/policy_gradient/budgets.csv",
        margins=f"{RESULTS}/policy_gradient/margins.csv",
        csv=f"{FIGURES}/policy_gradient_table.csv",
        html=report(
            f"{FIGURES}/policy_gradient_table.html",
            caption="../report/policy_gradient_table.rst",
            category="Paper C: KL-regularised targets",
            subcategory="sampled policy gradient (NumPy analogue)",
        ),
        md=f"{FIGURES}/policy_gradient_table.md",
        findings=f"{FIGURES}/policy_gradient_findings.md",
    log:
        f"{LOGS}/policy_gradient_aggregate.log",
    benchmark:
        f"{BENCHMARKS}/policy_gradient_aggregate.tsv"
    params:
        specs={name: order_free(spec) for name, spec in PG_SPECS.items()},
        task_names=PG_TASKS,
        regularizers=PG["regularizers"],
        claim_betas=PG["claim_betas"],
        budgets=PG["budgets"],
        dynamics=[order_free(d) for d in PG["dynamics"]],
        mlp=order_free(PG["mlp"]),
        seed=config["seed"],
        judging=order_free(PG["judging"]),
    script:
        "../../scripts/policy_gradient_aggregate.py"


rule policy_gradient_claims:
    """The ledger rows of the sampled-RL analogue."""
    input:
        margins=[rules.policy_gradient_aggregate.output.margins],
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


CLAIM_SUMMARIES.append(rules.policy_gradient_claims.output[0])
TARGETS.extend(
    [f"{FIGURES}/policy_gradient_table.{ext}" for ext in ("csv", "md", "html")]
)
FINDINGS["policy_gradient"] = rules.policy_gradient_aggregate.output.findings
for _figure, _table in [
    ("policy_gradient_share", "runs"),
    ("policy_gradient_pareto", "curves"),
    ("policy_gradient_final", "final"),
    ("policy_gradient_gap", "runs"),
    ("policy_gradient_over_time", "curves"),
    ("policy_gradient_entropy", "runs"),
]:
    FIGURE_SPECS[_figure] = dict(
        tables=dict(
            zip(
                PG_TASKS,
                getattr(rules.policy_gradient_aggregate.output, _table),
                strict=True,
            )
        ),
        column="task",
        plots="bonkl.plots.policy_gradient",
        category="Paper C: KL-regularised targets",
        subcategory="sampled policy gradient (NumPy analogue)",
    )
# the final-distribution figure's β, a plotting choice: figures.smk passes a spec's
# "options" to the plotting function (keyword arguments)
FIGURE_SPECS["policy_gradient_final"]["options"] = dict(beta=PG["figure_beta"])
