"""A run killed part way (SIGINT, as Ctrl-C; SIGKILL, as a crash) resumes to the same bytes.

The signal goes to Snakemake's whole process group, so running jobs die with it. Then the
user's own next steps: after SIGKILL, ``snakemake --unlock`` (the dead run's lock stays);
then the same command again (the default profile has ``rerun-incomplete``). Every table
and figure must equal an uninterrupted run's, byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from workflow_runs import copy_project, digest, snakemake


def interrupt(workdir: Path, configfile: str, signum: int, after_jobs: int) -> int:
    """Start a run, send ``signum`` to its process group once ``after_jobs`` jobs finished.

    Returns how many jobs had finished when the signal went out.
    """
    log = (workdir / f"interrupted-{signum}.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2",
                                "--configfile", configfile], cwd=workdir, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    finished = 0
    while process.poll() is None and finished < after_jobs:
        time.sleep(0.2)
        finished = (workdir / log.name).read_text().count("Finished jobid")
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, signum)
    process.wait(timeout=120)
    log.close()
    assert process.returncode != 0
    return finished


def resume(workdir: Path, configfile: str, signum: int) -> None:
    if signum == signal.SIGKILL:
        snakemake(workdir, "--configfile", configfile, "--unlock")
    snakemake(workdir, "--configfile", configfile)


def outputs(workdir: Path, config: dict) -> dict[str, str]:
    """Hashes of every table and figure (results/, and figures/ when it is separate)."""
    manifest = {f"results/{k}": v for k, v in digest(workdir / config["paths"]["results"]).items()}
    figures = workdir / config["paths"]["figures"]
    if not figures.is_relative_to(workdir / config["paths"]["results"]):
        manifest |= {f"figures/{k}": v for k, v in digest(figures).items()}
    return manifest


pytestmark = pytest.mark.slow  # each test runs the study about twice


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_test_config_run_resumes_to_the_same_bytes(tmp_path, project,
                                                               test_config, signum):
    workdir = copy_project(tmp_path)
    done = interrupt(workdir, "config/test.yaml", signum, after_jobs=25)
    assert done >= 25
    assert outputs(workdir, test_config) != outputs(project, test_config)  # really cut short
    resume(workdir, "config/test.yaml", signum)
    assert outputs(workdir, test_config) == outputs(project, test_config)


def test_interrupted_full_run_resumes_to_the_same_bytes(tmp_path):
    """The full config: SIGINT a third of the way, resume; SIGKILL later, unlock, resume."""
    baseline, interrupted = copy_project(tmp_path / "baseline"), copy_project(tmp_path / "cut")
    config = yaml.safe_load((baseline / "config" / "config.yaml").read_text())
    for folder in (baseline, interrupted):  # start from an empty figures/ in both
        for path in (folder / config["paths"]["figures"]).iterdir():
            path.unlink()
    result = snakemake(baseline, "--configfile", "config/config.yaml")
    total = result.stdout.count("Finished jobid") + result.stderr.count("Finished jobid")
    first = interrupt(interrupted, "config/config.yaml", signal.SIGINT, after_jobs=total // 3)
    resume_point = outputs(interrupted, config)
    assert first < total and len(resume_point) < len(outputs(baseline, config))
    interrupt(interrupted, "config/config.yaml", signal.SIGKILL, after_jobs=total // 3)
    resume(interrupted, "config/config.yaml", signal.SIGKILL)
    assert outputs(interrupted, config) == outputs(baseline, config)
