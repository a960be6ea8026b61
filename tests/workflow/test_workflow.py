"""Workflow tests: the real Snakemake on config/test.yaml in a temporary copy of the project.

One end-to-end run is shared by the tests of this module.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from report_browser import walk_report
from workflow_runs import ROOT, copy_project, digest, planned_figures, planned_jobs, snakemake

from bonkl.study.claims import CLAIMS
from bonkl.study.kl_constrained import INTEGER_NEIGHBOUR_COLUMNS
from bonkl.study.ledger import STATUSES, unchecked


def edit(module: Path) -> None:
    """A real edit (Snakemake 9 compares input checksums, so a bare touch is not one)."""
    module.write_text(module.read_text() + "\n# edited by the test\n")


@pytest.fixture(scope="module")
def figure_names(project):
    """The figures of the test config (every stage's figures_<stage> job), from a dry run."""
    stages = planned_figures(project, "--configfile", "config/test.yaml", "--forceall")
    return set().union(*stages.values())


def only_reference(config, name: str, names: set[str]):
    """``config`` with every list of reference names (figure lists and such) set to [name]."""
    if isinstance(config, dict):
        return {key: only_reference(value, name, names) for key, value in config.items()}
    if isinstance(config, list) and config and all(isinstance(item, str) and item in names
                                                   for item in config):
        return [name]
    return config


def test_every_output_is_written_and_finite(project, test_config, figure_names):
    results = project / test_config["paths"]["results"]
    figures = project / test_config["paths"]["figures"]
    for path in results.rglob("*.csv"):
        table = pd.read_csv(path)
        if path.name == "kl_convergence_table.csv":  # empty cells where mδ > 3, by design
            flagged = table["small_m_delta"].astype(bool)
            assert table.loc[flagged, INTEGER_NEIGHBOUR_COLUMNS].notna().all().all()
            assert table.loc[~flagged, INTEGER_NEIGHBOUR_COLUMNS].isna().all().all()
            table = table.drop(columns=INTEGER_NEIGHBOUR_COLUMNS)
        numeric = table.select_dtypes("number").to_numpy()
        assert (numeric == numeric).all() and (abs(numeric) < float("inf")).all(), path
    for spec in test_config["references"]:
        table = pd.read_csv(results / "bestofn" / f"{spec['name']}.csv")
        assert len(table) == len(set(table["n"])) > 1
        assert (table["kl"] <= table["kl_formula"] + 1e-12).all()
        reference = pd.read_csv(results / "reference" / f"{spec['name']}.csv")
        assert reference["prob"].sum() == pytest.approx(1.0, abs=1e-12)
    assert len(figure_names) >= 5
    for figure in figure_names:
        assert (figures / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (figures / f"{figure}.pdf").read_bytes()[:5] == b"%PDF-"
        assert len(pd.read_csv(figures / f"{figure}.csv")) > 0
    for log in (project / test_config["paths"]["logs"]).rglob("*.log"):
        assert "Traceback" not in log.read_text(), log


def test_samples_stage_matches_the_command_line(project, test_config):
    """The stage's per-prompt estimates (one table per reward) equal ``bonkl analyze --by
    prompt --estimator NAME`` on the same file and n grid, for every estimator of the config;
    the figures/ tables hold every reward."""
    section = test_config["samples"]
    results = project / test_config["paths"]["results"] / "samples"
    figures = project / test_config["paths"]["figures"]
    shared = ["prompt", "n", "candidates", "kl", "kl_low", "kl_high", "formula", "win_rate",
              "win_rate_low", "win_rate_high", "method"]
    for reward in section["rewards"]:
        table = pd.read_csv(results / reward / "per_prompt.csv", keep_default_na=False)
        n = [str(int(v)) for v in sorted(table["n"].unique())]
        for estimator in section["estimators"]:
            cli = subprocess.run([sys.executable, "-m", "bonkl.cli", "analyze", section["path"],
                                  "--by", "prompt", "--reward", reward, "--n", *n,
                                  "--estimator", estimator, "--format", "csv"],
                                 cwd=project, capture_output=True, text=True, check=True)
            expected = pd.read_csv(io.StringIO(cli.stdout), keep_default_na=False)[shared]
            got = table[table["estimator"] == estimator][shared]
            merged = got.merge(expected, on=["prompt", "n"], suffixes=("", "_cli"))
            assert len(merged) == len(got) > 0, (reward, estimator)
            for column in shared[2:]:
                pd.testing.assert_series_equal(merged[column], merged[f"{column}_cli"],
                                               check_names=False, check_dtype=False,
                                               rtol=1e-15)
        summary = pd.read_csv(results / reward / "summary.csv")
        assert sorted(summary["n"].unique()) == sorted(table["n"].unique())
    combined = pd.read_csv(figures / "samples_per_prompt.csv", keep_default_na=False)
    assert list(combined["reward"].unique()) == section["rewards"]
    first = combined[combined["reward"] == section["rewards"][0]].drop(columns="reward")
    pd.testing.assert_frame_equal(first.reset_index(drop=True), pd.read_csv(
        results / section["rewards"][0] / "per_prompt.csv", keep_default_na=False))


def test_claims_ledger_lists_every_claim(project, test_config):
    ledger = pd.read_csv(project / test_config["paths"]["results"] / "claims.csv")
    assert list(ledger["claim"])[: len(CLAIMS)] == list(CLAIMS)
    assert ledger["claim"].is_unique
    assert set(ledger["status"]) <= set(STATUSES)
    assert ((ledger["cases"] > 0) | unchecked(ledger)).all()  # unchecked rows say so
    proven = ledger[ledger["status"] == "proven"]
    assert proven["holds"].all(), proven
    markdown = (project / test_config["paths"]["figures"] / "claims.md").read_text()
    assert all(claim in markdown for claim in ledger["claim"])


@pytest.mark.slow
def test_html_report_shows_every_figure_in_a_real_browser(project, test_config, figure_names):
    """``snakemake --report``, opened in headless Chromium: every figure renders (no broken
    image), every caption is filled in from the config, the ledger and the stages' tables
    show as tables, and the runtime statistics are there. The screenshot is kept in
    test-artifacts/, not in git."""
    figures = project / test_config["paths"]["figures"]
    report = project / "report.html"
    snakemake(project, "--configfile", "config/test.yaml", "--report", str(report))
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    walk = walk_report(report, artifacts / "report.png")
    expected = {f"{name}.png" for name in figure_names}
    assert set(walk.images) == expected
    broken = [name for name, (width, height) in walk.images.items() if width * height == 0]
    assert not broken, f"broken images in the report: {broken}"
    for name, text in walk.captions.items():
        assert "DESCRIPTION" in text and "{{" not in text, name
    ledger = pd.read_csv(project / test_config["paths"]["results"] / "claims.csv")
    assert walk.tables.pop("claims.html") == len(ledger) + 1  # header and one row per claim
    assert set(walk.tables) == {path.name for path in figures.glob("*.html")} - {"claims.html"}
    assert all(rows >= 2 for rows in walk.tables.values()), walk.tables
    assert walk.statistics_charts == 2  # runtime per rule, and end times
    assert (artifacts / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_second_run_has_nothing_to_do(project):
    assert planned_jobs(project, "--configfile", "config/test.yaml") == {}


def test_full_study_dry_run(tmp_path):
    workdir = copy_project(tmp_path)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    jobs = planned_jobs(workdir)
    assert jobs["reference"] == jobs["bestofn"] == len(config["references"])
    chunks = -(-config["claims"]["random_references"] // config["claims"]["chunk_size"])
    assert jobs["claims_random"] == chunks
    assert set(config["bestofn"]["figures"]) <= planned_figures(workdir)["bestofn"]


BAD_CONFIGS = [
    ("references", [{"name": "u", "family": "uniform", "size": -3}],
     "-3 is less than the minimum of 2"),
    ("references", [{"name": "u", "family": "gaussian", "size": 3}], "'gaussian' is not one of"),
    ("references", [{"name": "u", "family": "zipf", "size": 3}], "'exponent' is a required"),
    ("references", [{"name": "u", "family": "uniform", "size": 3},
                    {"name": "u", "family": "binary"}], "references[1].name 'u' is already used"),
    ("references", [{"name": "s", "family": "spike", "bulk": 3, "masses": [0.6, 0.5]}],
     "masses sum to 1.1"),
    ("bestofn", {"n_grid": {"max": 100, "points": 1}, "mc_draws": 10,
                 "figures": {name: ["binary"] for name in
                             ["kl_uniform", "kl_staircase", "kl_samples", "kl_gap_bounds"]}
                 | {"kl_binary": ["nowhere"]}},
     "bestofn.figures.kl_binary[0] is 'nowhere'"),
    ("bestofn", {"n_grid": {"max": 100, "points": 0}, "mc_draws": 10,
                 "figures": {"kl_binary": ["binary"]}},
     "0 is less than the minimum of 1"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("key", "value", "message"), BAD_CONFIGS,
                         ids=[m for _, _, m in BAD_CONFIGS])
def test_bad_config_is_refused_before_any_job(tmp_path, test_config, key, value, message):
    workdir = copy_project(tmp_path)
    bad = dict(test_config, **{key: value})
    if key == "references":
        names = {spec["name"] for spec in test_config["references"]}
        bad = only_reference(bad, value[0]["name"], names)
    (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake(workdir, "--configfile", "config/bad.yaml", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / test_config["paths"]["results"]).exists()


def test_bad_user_file_is_refused_with_file_and_line(tmp_path, test_config):
    workdir = copy_project(tmp_path)
    (workdir / "config" / "broken.csv").write_text("logprob,reward\n-0.1,1\nnan,2\n")
    names = {spec["name"] for spec in test_config["references"]}
    bad = only_reference(test_config, "mine", names) | {"references": [
        {"name": "mine", "family": "file", "path": "config/broken.csv", "normalize": True}]}
    (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake(workdir, "--configfile", "config/bad.yaml", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config/broken.csv, line 3" in output and "'logprob'" in output
    assert not (workdir / test_config["paths"]["results"]).exists()


@pytest.mark.slow
def test_cores_1_and_2_give_the_same_bytes(project, test_config):
    """The fixture's run (--cores 2) and every job again with --cores 1: the hash manifests
    of all tables and figures (PNG and PDF too) are identical. Both manifests go to
    test-artifacts/ in ``sha256sum`` format."""
    outputs = project / test_config["paths"]["results"]
    parallel = digest(outputs)
    snakemake(project, "--configfile", "config/test.yaml", "--forceall", cores=1)
    serial = digest(outputs)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    for name, manifest in [("cores-2", parallel), ("cores-1", serial)]:
        (artifacts / f"hash-manifest-{name}.txt").write_text(
            "".join(f"{sha}  {path}\n" for path, sha in manifest.items()))
    assert {".csv", ".png", ".pdf", ".html", ".md"} <= {Path(p).suffix for p in parallel}
    assert serial == parallel


def test_kl_constrained_stage(project, test_config):
    """Paper B: tables in figures/, best-of-N converging to the tilt, paper-B claims checked."""
    from bonkl.study.kl_constrained import CLAIMS as PAPER_B

    results = project / test_config["paths"]["results"]
    figures = project / test_config["paths"]["figures"]
    section = test_config["kl_constrained"]
    for name in ("kl_convergence_table", "kl_rate_fit", "kl_shortfall"):
        assert len(pd.read_csv(figures / f"{name}.csv")) > 0
        assert (figures / f"{name}.md").read_text().startswith("# ")
    for spec in section["scenarios"]:
        table = pd.read_csv(results / "kl_constrained" / "memoryless" / spec["name"]
                            / "convergence.csv")
        assert set(table["delta"]) == set(spec["deltas"])
        for _, part in table.groupby("delta"):
            gaps = part.sort_values("m")["kl_bon_to_tilt"].to_numpy()
            assert gaps[-1] < gaps[0] and (part["kl_bon"] <= part["kl_formula"] + 1e-12).all()
    ledger = pd.read_csv(results / "claims.csv")
    paper_b = ledger[ledger["paper"] == "B"]
    assert set(paper_b["claim"]) == set(PAPER_B)
    assert (paper_b["cases"] > 0).all()
    # an observation of the full config's m grid (to 10^6): three points from m = 100 to 1000
    # give a = 0.47 on three_tokens, whose interval [0.37, 0.56] holds ½ but not the 0.02 band
    resolved = paper_b[paper_b["claim"] != "per_sequence_kl_half_log_m"]
    assert resolved["holds"].all(), resolved


def test_regularized_stage_claims_and_outputs(project, test_config):
    """Paper C's rows reach the ledger and hold; each example and the cross-paper table exist."""
    from bonkl.study.regularized import CLAIMS as PAPER_C

    results = project / test_config["paths"]["results"]
    ledger = pd.read_csv(results / "claims.csv").set_index("claim")
    rows = ledger.loc[list(PAPER_C)]
    assert (rows["cases"] > 0).all(), rows
    # the two rows that fail on the papers' own numbers: the printed 2.6e43 (a truncation of
    # e^100) and the Fig. 5 sentence read with Algorithm 1 under forward KL
    failing = ["remark_4_2_number", "fig5_sentence_algorithm_1"]
    assert not rows.loc[failing, "holds"].any(), rows.loc[failing]
    assert rows.drop(index=failing)["holds"].all(), rows
    assert set(rows["source"]) >= {"ours", "Remark 4.2 (§4)", "Fig. 5 (§6)"}
    for example in test_config["regularized"]["examples"]:
        assert len(pd.read_csv(results / "regularized" / f"{example}.csv")) > 0
    table = pd.read_csv(project / test_config["paths"]["figures"]
                        / "regularized_cross_paper_table.csv")
    assert table["keeps_reference_proportions"].all()


def test_winrate_stage(project, test_config):
    """Per reference: exact W_n within [1/2, n/(n+1)], sampled intervals covering it at a
    plausible rate, the trade-off curves, rewind-and-repeat; the table; the claim rows."""
    results = project / test_config["paths"]["results"]
    covered = total = 0
    for spec in test_config["references"]:
        by_n = pd.read_csv(results / "winrate" / f"{spec['name']}.csv")
        assert (by_n["win_rate"] >= 0.5 - 1e-12).all()
        assert (by_n["win_rate"] <= by_n["win_rate_bound"] + 1e-12).all()
        assert (by_n["optimum_win_rate"] >= by_n["win_rate"] - 1e-12).all()
        assert (by_n["pairs"] == test_config["winrate"]["pairs"]).all()
        honest = by_n[(1 - by_n["win_rate"]) * by_n["pairs"] >= 5]  # normal interval fair
        inside = (honest["sampled_low"] <= honest["win_rate"]) & (honest["win_rate"]
                                                                  <= honest["sampled_high"])
        covered, total = covered + int(inside.sum()), total + len(honest)
        curves = pd.read_csv(results / "tradeoff" / f"{spec['name']}.csv")
        assert set(curves["curve"]) == {"best_of_n", "best_of_n_formula", "rewind", "optimum",
                                        "continuous_optimum"}
        rewind = pd.read_csv(results / "rewind" / f"{spec['name']}.csv")
        assert rewind["kl"].iloc[0] == 0 and rewind["at_cap"].iloc[-1]
    assert total >= 10 and covered >= 0.8 * total  # 95% intervals
    table = pd.read_csv(project / test_config["paths"]["figures"] / "winrate_table.csv")
    assert len(table) == len(test_config["references"]) * len(test_config["winrate"]["table_n"])
    ledger = pd.read_csv(results / "claims.csv").set_index("claim")
    for claim in ["win_rate_le_bound", "win_rate_limit", "best_of_n_le_optimum",
                  "continuous_best_of_n_le_optimum", "win_rate_0999_continuous"]:
        assert ledger.loc[claim, "holds"], claim


WINRATE_BAD = [
    ({"optimum_beta": {"min": 1.0, "max": 0.5, "points": 5}},
     "winrate.optimum_beta.min (1.0) must be below winrate.optimum_beta.max (0.5)"),
    ({"figures": {"winrate_vs_n": ["binary"], "winrate_tradeoff": ["nowhere"],
                  "winrate_rewind": ["binary"]}},
     "winrate.figures.winrate_tradeoff[0] is 'nowhere'"),
    ({"pairs": 1}, "1 is less than the minimum of 2"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("change", "message"), WINRATE_BAD, ids=[m for _, m in WINRATE_BAD])
def test_bad_winrate_config_is_refused(tmp_path, test_config, change, message):
    workdir = copy_project(tmp_path)
    bad = dict(test_config, winrate=dict(test_config["winrate"], **change))
    (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad))
    result = snakemake(workdir, "--configfile", "config/bad.yaml", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (workdir / test_config["paths"]["results"]).exists()


