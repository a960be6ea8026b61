"""Test tiers by directory, and one end-to-end run of config/test.yaml shared by the
workflow and cluster tests.

- ``tests/unit`` and ``tests/accuracy``: fast, no Snakemake.
- ``tests/workflow`` (marked ``workflow``): the real Snakemake in temporary directories.
- ``tests/cluster`` (marked ``cluster``): a real single-node Slurm that the tests install and
  start as root; they run only with ``BONKL_SLURM=1 pytest -m cluster``.
- ``slow`` marks the long checks in any directory: ``pytest -m slow`` runs them.

Plain ``pytest`` deselects ``slow`` and ``cluster`` (``addopts`` in ``pyproject.toml``).
Helpers shared by the tests live in ``tests/support`` (on ``pythonpath``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from workflow_runs import ROOT, copy_project, digest, snakemake

TIERS = {"workflow": pytest.mark.workflow, "cluster": pytest.mark.cluster,
         "accuracy": pytest.mark.accuracy, "unit": pytest.mark.unit}
SLURM_OPT_IN = "BONKL_SLURM"


def pytest_collection_modifyitems(config, items):
    """Mark each test by its directory; skip the cluster tier unless opted in."""
    tests = Path(__file__).resolve().parent
    opted_in = os.environ.get(SLURM_OPT_IN) == "1"
    for item in items:
        tier = Path(item.fspath).resolve().relative_to(tests).parts[0]
        if tier in TIERS:
            item.add_marker(TIERS[tier])
        if tier == "cluster" and not opted_in:
            item.add_marker(pytest.mark.skip(
                reason=f"the cluster tests install and start Slurm as root: opt in with "
                       f"{SLURM_OPT_IN}=1 pytest -m cluster"))


@pytest.fixture(scope="session")
def test_config():
    return yaml.safe_load((ROOT / "config" / "test.yaml").read_text())


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """A copy of the project after one complete local run of config/test.yaml (--cores 2)."""
    workdir = copy_project(tmp_path_factory.mktemp("study"))
    figures_before = digest(workdir / "figures")
    snakemake(workdir, "--configfile", "config/test.yaml")
    assert digest(workdir / "figures") == figures_before, "the test config touched figures/"
    return workdir
