"""Shared test setup: ``tests/`` importable (``mp_reference``, ``workflow_runs``), and one
end-to-end run of config/test.yaml shared by the workflow and cluster tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from workflow_runs import ROOT, copy_project, digest, snakemake  # noqa: E402


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
