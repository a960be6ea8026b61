"""``bench/stages.py``: rules files parsed into stages, benchmark files summed per stage, on a
small fixture workflow written here, and the real workflow's rules each in one stage."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

import stages  # noqa: E402

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
RULES = {
    "prepare.smk": 'rule alpha:\n    output: "a"\n\n\ncheckpoint beta:\n    output: "b"\n',
    "plots.smk": ('for _f in FIGS:\n\n    rule:\n        name:\n            f"figure_{_f}"\n'
                  '        output: "x"\n\n\nrule gamma:\n    output: "g"\n'),
}


def bench(path: Path, *rows: tuple[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t1\t1\n"
                                     for s, rss in rows))


@pytest.fixture
def workflow(tmp_path):
    """rules in workflow/rules, a Snakefile including plots before prepare, and benchmarks:
    alpha (one job, two repeats), beta (two jobs, nested wildcards), two figures (one with no
    max_rss), a stray directory and a stray file."""
    rules = tmp_path / "workflow" / "rules"
    rules.mkdir(parents=True)
    for name, text in RULES.items():
        (rules / name).write_text(text)
    (tmp_path / "Snakefile").write_text('include: "workflow/rules/plots.smk"\n'
                                        'include: "workflow/rules/prepare.smk"\n')
    runs = tmp_path / "benchmarks"
    bench(runs / "alpha.tsv", ("1.50", "100.00"), ("0.50", "120.00"))
    bench(runs / "beta" / "x.tsv", ("2.00", "50.00"))
    bench(runs / "beta" / "y" / "z.tsv", ("3.25", "NA"))
    bench(runs / "figure_one.tsv", ("4.00", "300.00"))
    bench(runs / "figure_two.tsv", ("1.00", "-"))
    bench(runs / "test" / "alpha.tsv", ("9.00", "9.00"))
    (runs / "notes.txt").write_text("not a benchmark\n")
    return tmp_path


def test_rules_files_give_stages(workflow):
    patterns = stages.stage_patterns(workflow / "workflow" / "rules")
    assert stages.stage_of("alpha", patterns) == stages.stage_of("beta", patterns) == "prepare"
    assert stages.stage_of("figure_kl_binary", patterns) == "plots"
    assert stages.stage_of("gamma", patterns) == "plots"
    assert stages.stage_of("figure_", patterns) is None
    assert stages.stage_of("alphabet", patterns) is None
    assert stages.stage_order(workflow / "Snakefile", patterns) == ["plots", "prepare"]


def test_jobs_summed_per_stage_and_rule(workflow):
    patterns = stages.stage_patterns(workflow / "workflow" / "rules")
    jobs, unknown = stages.collect(workflow / "benchmarks", patterns)
    assert sorted(p.name for p in unknown) == ["notes.txt", "test"]
    by_stage = stages.summarize(jobs, "stage", ["plots", "prepare"])
    assert by_stage == [["plots", 2, 5.0, 2.0, 4.0, 300.0],
                        ["prepare", 3, 7.25, 4.0, 3.25, 120.0],
                        ["total", 5, 12.25, 6.0, 4.0, 300.0]]
    by_rule = {row[0]: row[1:] for row in stages.summarize(jobs, "rule", [])}
    assert by_rule["alpha"] == [1, 2.0, 2.0, 2.0, 120.0]  # repeats of one job add up
    assert by_rule["figure_two"][4] is None  # no max_rss measured
    assert math.isnan(stages.read_job(workflow / "benchmarks" / "figure_two.tsv",
                                      "figure_two").max_rss)


def test_markdown_output(workflow, capsys):
    assert stages.main([str(workflow / "benchmarks"),
                        "--rules", str(workflow / "workflow" / "rules")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].replace(" ", "") == \
        "|stage|jobs|summedjobwalltime[s]|summedCPUtime[s]|longestjob[s]|peakmax_rss[MB]|"
    assert out[2].replace(" ", "") == "|plots|2|5.0|2.0|4.0|300|"
    assert out[4].replace(" ", "") == "|total|5|12.2|6.0|4.0|300|"
    assert out[-1].endswith("notes.txt, test")


def test_bad_benchmark_file_is_named(workflow):
    bad = workflow / "benchmarks" / "alpha.tsv"
    bad.write_text("seconds\n1.0\n")
    with pytest.raises(ValueError, match="alpha.tsv: not a Snakemake benchmark file"):
        stages.collect(workflow / "benchmarks",
                       stages.stage_patterns(workflow / "workflow" / "rules"))


def test_every_rule_of_the_workflow_has_one_stage():
    """The real rules files: each declared rule in exactly one stage; figures by pattern."""
    patterns = stages.stage_patterns(ROOT / "workflow" / "rules")
    declared = [(stage, p.pattern) for stage, ps in patterns.items() for p in ps]
    assert len({name for _, name in declared}) == len(declared)
    assert stages.stage_of("figures_bestofn", patterns) == "figures"
    for rule in ("reference", "bestofn", "winrate", "kl_memoryless", "regularized_example",
                 "claims_ledger", "claims_tables"):
        assert stages.stage_of(rule, patterns) is not None, rule
