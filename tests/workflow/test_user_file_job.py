"""A bad user file met by the reference job itself (past the parse-time checks): the job
fails naming the file and row, and leaves no output."""

from __future__ import annotations

from workflow_runs import copy_project, snakemake

REFERENCE_ONLY = """
# The project's reference rule alone, without the parse-time checks of common.smk, so the
# job itself meets the bad file.
RESULTS, LOGS, BENCHMARKS = "results", "logs", "benchmarks"
REFERENCES = {"mine": {"name": "mine", "family": "file", "path": "broken.csv",
                       "normalize": True}}
config["seed"] = 1


def reference_inputs(wildcards):
    return {"user_file": "broken.csv"}


include: "workflow/rules/reference.smk"
"""


def test_reference_job_on_a_bad_file_leaves_no_output(tmp_path):
    """The reference job fails naming the file and row, and leaves no table behind (the
    script validates before writing; Snakemake removes a failed job's outputs)."""
    workdir = copy_project(tmp_path)
    (workdir / "broken.csv").write_text("logprob,reward\n-0.1,1\nnan,2\n", encoding="utf-8")
    (workdir / "reference_only.smk").write_text(REFERENCE_ONLY, encoding="utf-8")
    result = snakemake(workdir, "--snakefile", "reference_only.smk", "results/reference/mine.csv",
                       check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "broken.csv, line 3: column 'logprob' is 'nan'" in (
        workdir / "logs" / "reference" / "mine.log").read_text(encoding="utf-8")
    assert not (workdir / "results" / "reference" / "mine.csv").exists(), output
