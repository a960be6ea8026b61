# The bonkl reproduction study. Run: snakemake --cores 8
# Tiny test run: snakemake --cores 2 --configfile config/test.yaml
from snakemake.utils import min_version, validate

min_version("9.20")


configfile: "config/config.yaml"


SCHEMA = "config/schema.yaml"  # bonkl.pipeline.config_checks (common.smk) checks what it cannot


validate(config, SCHEMA)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/bestofn.smk"
include: "workflow/rules/kl_constrained.smk"
include: "workflow/rules/regularized.smk"
include: "workflow/rules/winrate.smk"
include: "workflow/rules/policy_gradient.smk"
include: "workflow/rules/samples.smk"
include: "workflow/rules/estimators.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/figures.smk"


rule all:
    """The whole study: every table, figure and the claims ledger."""
    default_target: True
    input:
        expand(rules.bestofn.output[0], reference=REFERENCES),
        rules.claims_ledger.output[0],
        f"{FIGURES}/claims.md",
        f"{FIGURES}/claims.html",
        expand(
            f"{FIGURES}/{{figure}}.{{ext}}",
            figure=FIGURE_SPECS,
            ext=["png", "pdf", "csv"],
        ),
        TARGETS,
