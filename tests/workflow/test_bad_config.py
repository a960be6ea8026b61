"""Bad configs through the real Snakemake: each is refused when the workflow is parsed, with a
message naming the key and what was expected, and no job runs (no results, logs or
benchmarks appear).

The cases (``bad_configs``) span every section; each is a plain run, not a dry run, so a
check that fired only inside a job would show up as outputs. The runs are independent
processes, started a few at a time (most of a run is Snakemake's start-up).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from bad_configs import CHECK_CASES, SCHEMA_CASES, edited
from workflow_runs import ROOT, copy_project, snakemake

pytestmark = pytest.mark.slow  # 42 Snakemake runs on bad configs, about 50 s
CASES = SCHEMA_CASES + CHECK_CASES
PARALLEL_RUNS = 8  # mostly waiting: Snakemake's start-up, not CPU


@pytest.fixture(scope="module")
def refusals(tmp_path_factory, test_config):
    """Case id -> (work directory, completed Snakemake run on its bad config)."""
    workdirs = {}
    for name, key, value, _ in CASES:  # copies made one by one, runs side by side
        workdir = workdirs[name] = copy_project(tmp_path_factory.mktemp("bad"))
        bad = edited(test_config, key, value)
        (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")

    def run(name):
        return name, snakemake(workdirs[name], "--configfile", "config/bad.yaml", check=False)

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        return {name: (workdirs[name], result) for name, result in pool.map(run, workdirs)}


def test_cases_span_every_section():
    """Every top-level section of the schema has at least one bad-config case."""
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
    sections = {key.split(".")[0].split("[")[0] for _, key, _, _ in CASES}
    assert sections == set(schema["properties"])
    assert len({name for name, *_ in CASES}) == len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_bad_config_is_refused_before_any_job(refusals, test_config, case):
    name, _, _, fragments = case
    workdir, result = refusals[name]
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for fragment in fragments:
        assert fragment in output, (fragment, output)
    for folder in ("results", "logs", "benchmarks"):
        top = Path(test_config["paths"][folder]).parts[0]
        assert not (workdir / top).exists(), (folder, output)
