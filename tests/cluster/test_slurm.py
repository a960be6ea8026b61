"""Cluster tests: the Slurm profile on a real single-node Slurm, started by local-slurm.sh.

They need root (to install and start Slurm) and the executor plugin (``pip install -e
".[slurm]"``), and run only on an explicit opt-in: ``BONKL_SLURM=1 pytest -m cluster``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from workflow_runs import ROOT, copy_project, digest, snakemake

SCRIPT = ROOT / "tests" / "cluster" / "local-slurm.sh"
PROFILE = ROOT / "workflow" / "profiles" / "slurm"
CANNOT_RUN_HERE = 77  # local-slurm.sh: not root, or the packages are unreachable
# The plugin's first status check comes 40 s after a submission by default; the jobs here
# take seconds, so poll every second.
FAST_POLLING = ("--slurm-init-seconds-before-status-checks", "1")


@pytest.fixture(scope="session")
def plugin():
    pytest.importorskip("snakemake_executor_plugin_slurm",
                        reason='no Slurm executor plugin: pip install -e ".[slurm]"')


def local_slurm(command: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def slurm(plugin):
    """A running single-node Slurm: started here (and stopped after) unless already up."""
    if os.geteuid() != 0:
        pytest.skip("cluster tests need root to install and start Slurm")
    was_running = local_slurm("status").returncode == 0
    started = local_slurm("start")
    if started.returncode == CANNOT_RUN_HERE:
        pytest.skip(f"no local Slurm: {started.stderr.strip()}")
    assert started.returncode == 0, f"local-slurm.sh start:\n{started.stdout}{started.stderr}"
    yield
    if not was_running:
        stopped = local_slurm("stop")
        assert stopped.returncode == 0, stopped.stderr


def on_slurm(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return snakemake(workdir, "--profile", str(PROFILE), *FAST_POLLING, *args, check=check,
                     cores=None)


def test_slurm_run_equals_local_run_byte_for_byte(slurm, tmp_path, project, test_config):
    """config/test.yaml through the profile: every table and figure has the local run's bytes
    (the local run is the workflow tests' ``project``)."""
    results = test_config["paths"]["results"]
    local = project
    cluster = copy_project(tmp_path / "cluster")
    run = on_slurm(cluster, "--configfile", "config/test.yaml")
    assert re.search(r"submitted with SLURM jobid \d+", run.stdout + run.stderr)
    produced = digest(cluster / results)
    assert produced == digest(local / results)
    assert any(name.endswith(".png") for name in produced)


def test_failed_job_is_reported_with_its_log(slurm, tmp_path):
    """A job that fails on Slurm: Snakemake names the rule and both logs, and shows the log."""
    (tmp_path / "Snakefile").write_text((ROOT / "tests" / "cluster" / "failing.smk").read_text())
    run = on_slurm(tmp_path, "--retries", "0", check=False)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Error in rule deliberate_failure" in output
    assert "logs/deliberate_failure.log" in output
    assert "bonkl: this job fails on purpose" in output  # the log, shown by show-failed-logs
    slurm_log = re.search(r"(\S+/logs/slurm/rule_deliberate_failure/\S+\.log)", output)
    assert slurm_log, output
    assert Path(slurm_log[1]).is_file(), "the plugin keeps the Slurm log of a failed job"
    assert (tmp_path / "logs" / "deliberate_failure.log").read_text().startswith("bonkl:")


def rule_resources(dry_run: str) -> dict[str, set[tuple[int, int]]]:
    """Rule name -> the (mem_mb, runtime) pairs of its jobs, from a dry run's job listing."""
    found: dict[str, set[tuple[int, int]]] = {}
    rule = None
    for line in dry_run.splitlines():
        if match := re.fullmatch(r"\s*rule (\w+):", line):
            rule = match[1]
        elif (match := re.fullmatch(r"\s*resources: (.*)", line)) and "mem_mb=" in line:
            values = dict(item.split("=", 1) for item in match[1].split(", "))
            found.setdefault(rule, set()).add((int(values["mem_mb"]), int(values["runtime"])))
    return found


def test_full_study_dry_run_shows_each_rules_resources(plugin, tmp_path):
    """Each rule's jobs get the profile's mem_mb and runtime; unlisted rules, its defaults."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())

    def sized(settings: dict) -> tuple[int, int]:
        return eval(str(settings["mem_mb"]), {"attempt": 1}), int(settings["runtime"])

    workdir = copy_project(tmp_path)
    found = rule_resources(snakemake(workdir, "--profile", str(PROFILE), "-n", cores=None).stdout)
    assert {"reference", "bestofn", "claims_random"} <= set(found)
    for rule, pairs in found.items():
        settings = {**profile["default-resources"], **profile["set-resources"].get(rule, {})}
        assert pairs == {sized(settings)}, rule
