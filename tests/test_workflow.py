"""Workflow tests: the real Snakemake on config/test.yaml in a temporary copy of the project.

One end-to-end run is shared by the tests of this module.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_runs import ROOT, copy_project, digest, planned_jobs, snakemake

from bonkl.claims import CLAIMS

pytestmark = pytest.mark.workflow


def edit(module: Path) -> None:
    """A real edit (Snakemake 9 compares input checksums, so a bare touch is not one)."""
    module.write_text(module.read_text() + "\n# edited by the test\n")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project after one complete run of config/test.yaml."""
    workdir = copy_project(tmp_path_factory.mktemp("study"))
    figures_before = digest(workdir / "figures")
    snakemake(workdir, "--configfile", "config/test.yaml")
    assert digest(workdir / "figures") == figures_before, "the test config touched figures/"
    return workdir


@pytest.fixture(scope="module")
def test_config():
    return yaml.safe_load((ROOT / "config" / "test.yaml").read_text())


def test_every_output_is_written_and_finite(project, test_config):
    results = project / test_config["paths"]["results"]
    figures = project / test_config["paths"]["figures"]
    for spec in test_config["references"]:
        table = pd.read_csv(results / "bestofn" / f"{spec['name']}.csv")
        assert len(table) == len(set(table["n"])) > 1
        numeric = table.select_dtypes("number").to_numpy()
        assert (numeric == numeric).all() and abs(numeric).max() < float("inf")
        assert (table["kl"] <= table["kl_formula"] + 1e-12).all()
        reference = pd.read_csv(results / "reference" / f"{spec['name']}.csv")
        assert reference["prob"].sum() == pytest.approx(1.0, abs=1e-12)
    for figure in test_config["figures"]:
        assert (figures / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (figures / f"{figure}.pdf").read_bytes()[:5] == b"%PDF-"
        assert len(pd.read_csv(figures / f"{figure}.csv")) > 0
    for log in (project / test_config["paths"]["logs"]).rglob("*.log"):
        assert "Traceback" not in log.read_text(), log


def test_claims_ledger_lists_every_claim(project, test_config):
    ledger = pd.read_csv(project / test_config["paths"]["results"] / "claims.csv")
    assert list(ledger["claim"]) == list(CLAIMS)
    assert set(ledger["status"]) <= {"proven", "reported", "derived", "stated-number"}
    assert (ledger["cases"] > 0).all()
    proven = ledger[ledger["status"] == "proven"]
    assert proven["holds"].all(), proven
    markdown = (project / test_config["paths"]["figures"] / "claims.md").read_text()
    assert all(claim in markdown for claim in CLAIMS)


def test_second_run_has_nothing_to_do(project):
    assert planned_jobs(project, "--configfile", "config/test.yaml") == {}


def test_edits_rerun_exactly_their_dependents(project, test_config):
    figure_rules = {f"figure_{name}" for name in test_config["figures"]}

    edited = dict(test_config, bestofn=dict(test_config["bestofn"], mc_draws=150))
    (project / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = planned_jobs(project, "--configfile", "config/edited.yaml")
    assert set(jobs) == {"bestofn", "all"} | figure_rules
    assert jobs["bestofn"] == len(test_config["references"])

    edit(project / "src" / "bonkl" / "plots.py")
    assert set(planned_jobs(project, "--configfile", "config/test.yaml")) == {"all"} | figure_rules

    edit(project / "src" / "bonkl" / "bestofn.py")
    assert set(planned_jobs(project, "--configfile", "config/test.yaml")) == {
        "all", "bestofn", "claims_reference", "claims_random", "claims_ledger",
        "claims_markdown", *figure_rules,
    }


def test_full_study_dry_run(tmp_path):
    workdir = copy_project(tmp_path)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    jobs = planned_jobs(workdir)
    assert jobs["reference"] == jobs["bestofn"] == len(config["references"])
    chunks = -(-config["claims"]["random_references"] // config["claims"]["chunk_size"])
    assert jobs["claims_random"] == chunks
    assert {f"figure_{name}" for name in config["figures"]} <= set(jobs)


BAD_CONFIGS = [
    ("references", [{"name": "u", "family": "uniform", "size": -3}],
     "-3 is less than the minimum of 2"),
    ("references", [{"name": "u", "family": "gaussian", "size": 3}], "'gaussian' is not one of"),
    ("references", [{"name": "u", "family": "zipf", "size": 3}], "'exponent' is a required"),
    ("references", [{"name": "u", "family": "uniform", "size": 3},
                    {"name": "u", "family": "binary"}], "references[1].name 'u' is already used"),
    ("references", [{"name": "s", "family": "spike", "bulk": 3, "masses": [0.6, 0.5]}],
     "masses sum to 1.1"),
    ("figures", {"kl_binary": ["nowhere"]}, "figures.kl_binary[0] is 'nowhere'"),
    ("bestofn", {"n_grid": {"max": 100, "points": 0}, "mc_draws": 10},
     "0 is less than the minimum of 1"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_CONFIGS,
                         ids=[m for _, _, m in BAD_CONFIGS])
def test_bad_config_is_refused_before_any_job(tmp_path, test_config, key, value, message):
    workdir = copy_project(tmp_path)
    bad = dict(test_config, **{key: value})
    if key == "references":
        bad["figures"] = {"kl_binary": [value[0]["name"]]}
    (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake(workdir, "--configfile", "config/bad.yaml", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / test_config["paths"]["results"]).exists()


def test_bad_user_file_is_refused_with_file_and_row(tmp_path, test_config):
    workdir = copy_project(tmp_path)
    (workdir / "config" / "broken.csv").write_text("logprob,reward\n-0.1,1\nnan,2\n")
    bad = dict(test_config, references=[
        {"name": "mine", "family": "file", "path": "config/broken.csv", "normalize": True}])
    bad["figures"] = {"kl_binary": ["mine"]}
    (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake(workdir, "--configfile", "config/bad.yaml", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config/broken.csv, row 2" in output and "'logprob'" in output
    assert not (workdir / test_config["paths"]["results"]).exists()


def test_rerun_from_scratch_is_byte_identical(project, test_config):
    """All jobs again, serially: every table and figure (PNG and PDF too) has the same bytes."""
    outputs = project / test_config["paths"]["results"]
    before = digest(outputs)
    snakemake(project, "--configfile", "config/test.yaml", "--forceall", "--cores", "1")
    assert digest(outputs) == before
