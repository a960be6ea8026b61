# Shared definitions: output locations, the checked reference list, grids, and the
# library modules each rule depends on (so editing a module reruns exactly its users).
import os
import re
import math
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from bonkl.pipeline.code_deps import library_files
from bonkl.pipeline.config_checks import ConfigError, check_config
from bonkl.rl.tasks import expand_tasks
from bonkl.study.bestofn import log_integer_grid
from bonkl.study.policy_gradient import job_runs, stage_runs

RESULTS = config["paths"]["results"]
FIGURES = config["paths"]["figures"]
LOGS = config["paths"]["logs"]
BENCHMARKS = config["paths"]["benchmarks"]
SRC = Path(workflow.basedir) / "src"
SCRIPTS = Path(workflow.basedir) / "scripts"


try:  # what the schema cannot express: cross-key checks, user files (bonkl.pipeline.config_checks)
    check_config(
        config, yaml.safe_load((Path(workflow.basedir) / SCHEMA).read_text("utf-8"))
    )
except ConfigError as err:
    raise WorkflowError(f"config: {err}") from None

REFERENCES = {spec["name"]: spec for spec in config["references"]}


def order_free(value):
    """``value`` with every dict's keys sorted, inside lists too (lists keep their order), so a
    reordered config is not a param change."""
    if isinstance(value, dict):
        return {key: order_free(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [order_free(item) for item in value]
    return value


def reference_lists(key):
    """The mapping ``config[key]`` of names to reference lists, each name checked."""
    section = config
    for part in key.split("."):
        section = section[part]
    for label, listed in section.items():
        for j, name in enumerate(listed):
            if name not in REFERENCES:
                raise WorkflowError(
                    f"config: {key}.{label}[{j}] is {name!r}; expected the name of a "
                    f"reference, one of {sorted(REFERENCES)}"
                )
    return section


# Filled by each stage's rules file, read by claims.smk and figures.smk:
# CLAIM_SUMMARIES lists the stage's ledger-row tables (see bonkl.study.ledger);
# FIGURE_SPECS maps a figure name to a dict with
#   tables:      {label: table path}, concatenated with a `column` holding the label,
#   column:      the label column's name ("reference", "scenario", ...),
#   plots:       the bonkl module whose FIGURES dict draws it (e.g. "bonkl.plots.bestofn"),
#   category, subcategory: where the HTML report shows it,
#   options:     (optional) plotting options from the config, keyword arguments of the
#                drawing function (a plotting key reruns only its stage's figures job).
# The caption is workflow/report/<figure>.rst.
# TARGETS: other final outputs of a stage (tables for figures/), requested by rule all.
# FINDINGS: {stage: path} of the Markdown fragment of findings a stage renders from its tables.
CLAIM_SUMMARIES = []
FIGURE_SPECS = {}
TARGETS = []
FINDINGS = {}  # stage name -> its Markdown findings fragment, rendered into the pages
N_GRID = log_integer_grid(
    config["bestofn"]["n_grid"]["max"], config["bestofn"]["n_grid"]["points"]
)
CLAIMS_N_GRID = log_integer_grid(
    config["claims"]["n_grid"]["max"], config["claims"]["n_grid"]["points"]
)
SAMPLES_N_GRID = log_integer_grid(
    config["samples"]["n_grid"]["max"], config["samples"]["n_grid"]["points"]
)
SAMPLE_REWARDS = list(config["samples"]["rewards"])
CLAIMS_CHUNKS = range(
    math.ceil(config["claims"]["random_references"] / config["claims"]["chunk_size"])
)


wildcard_constraints:
    reference="|".join(map(re.escape, REFERENCES)),
    chunk=r"\d+",
    reward="|".join(map(re.escape, config["samples"]["rewards"])),


def library(script, *dynamic):
    """Source files of the bonkl modules that ``scripts/<script>.py`` reaches through its
    imports (and through ``dynamic``, modules it imports by name), so that editing one
    reruns exactly the rules whose scripts use it (bonkl.pipeline.code_deps)."""
    files = library_files(str(SCRIPTS / f"{script}.py"), str(SRC), tuple(dynamic))
    return [
        os.path.relpath(f) for f in files
    ]  # relative: a moved checkout reruns nothing


def reference_inputs(wildcards):
    """Inputs of the reference jobs: the library, and the user's file for family `file`."""
    spec = REFERENCES[wildcards.reference]
    inputs = {"lib": library("reference")}
    if spec["family"] == "file":
        inputs["user_file"] = spec["path"]
    return inputs


def figure_stages():
    """Figure names of FIGURE_SPECS by stage, the plots module's last name, in declaration
    order: one figures_<stage> job draws each stage's figures."""
    stages = {}
    for name, spec in FIGURE_SPECS.items():
        stages.setdefault(spec["plots"].rsplit(".", 1)[-1], []).append(name)
    return stages


def figure_tables(figures):
    """The tables the figures plot, each once, in order."""
    return list(
        dict.fromkeys(t for f in figures for t in FIGURE_SPECS[f]["tables"].values())
    )


def figure_outputs(figures):
    """Named outputs {<figure>_png, <figure>_pdf, <figure>_csv} of figures; the PNG is the
    report's entry, with the caption workflow/report/<figure>.rst."""
    outputs = {}
    for f in figures:
        spec = FIGURE_SPECS[f]
        outputs[f"{f}_png"] = report(
            f"{FIGURES}/{f}.png",
            caption=f"../report/{f}.rst",
            category=spec["category"],
            subcategory=spec["subcategory"],
        )
        outputs[f"{f}_pdf"] = f"{FIGURES}/{f}.pdf"
        outputs[f"{f}_csv"] = f"{FIGURES}/{f}.csv"
    return outputs


def figure_params(figures):
    """Per figure: its plots module, label column, {label: table} and plotting options."""
    return {
        f: dict(
            plots=FIGURE_SPECS[f]["plots"],
            column=FIGURE_SPECS[f]["column"],
            tables={
                label: str(path) for label, path in FIGURE_SPECS[f]["tables"].items()
            },
            options=order_free(FIGURE_SPECS[f].get("options", {})),
        )
        for f in sorted(figures)
    }
