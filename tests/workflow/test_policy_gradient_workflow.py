"""The policy_gradient stage under the real Snakemake, config/test.yaml, in a temporary copy
of the project: every planned run judged at every budget it reached, the ledger's pooled
rows counted from the runs, the findings fragment rendered, and results independent of how
the runs are split into jobs. (Replaces ``test_workflow.test_policy_gradient_stage``.)"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from workflow_runs import copy_project, snakemake

from bonkl.rl.tasks import expand_tasks
from bonkl.study.policy_gradient import stage_runs


def _targets(config: dict) -> list[str]:
    results, figures = config["paths"]["results"], config["paths"]["figures"]
    return [f"{results}/claims/policy_gradient.csv", f"{figures}/policy_gradient_table.csv",
            f"{figures}/policy_gradient_findings.md"]


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    workdir = copy_project(tmp_path_factory.mktemp("policy_gradient") / "project")
    config = yaml.safe_load((workdir / "config" / "test.yaml").read_text())
    snakemake(workdir, *_targets(config), "--configfile", "config/test.yaml")
    return workdir, config


def test_every_run_judged_at_each_budget_it_reached(stage):
    workdir, config = stage
    pg = config["policy_gradient"]
    results = workdir / config["paths"]["results"]
    planned = stage_runs(pg)
    assert len(list((results / "policy_gradient" / "jobs").glob("*/curves.csv"))) == pg["jobs"]
    runs = pd.concat([pd.read_csv(results / "policy_gradient" / "runs" / f"{name}.csv",
                                  keep_default_na=False).assign(task=name)
                      for name, _, _ in expand_tasks(pg["tasks"])], ignore_index=True)
    labels = ["task", "policy", "dynamics", "regularizer", "method", "beta", "seed"]
    want = sorted((*(r[k] for k in labels), b) for r in planned for b in pg["budgets"]
                  if b <= r["steps"])
    assert sorted(map(tuple, runs[[*labels, "steps"]].to_numpy().tolist())) == want
    assert runs["mean_reward"].between(0, 1).all()
    assert (runs["collapsed_final"] == (runs["top_mode_share"]
                                        >= pg["judging"]["collapse_share"])).all()
    assert (runs["collapsed_ever"] | ~runs["collapsed_final"]).all()
    assert {"tabular", "mlp"} <= set(runs["policy"])
    assert set(runs["dynamics"]) == {d["name"] for d in pg["dynamics"]}
    final = pd.read_csv(results / "policy_gradient" / "final" / f"{planned[0]['task']}.csv",
                        dtype={"answer": str})
    assert final.groupby(labels[1:])["trained"].sum().sub(1).abs().max() < 1e-12
    table = pd.read_csv(workdir / config["paths"]["figures"] / "policy_gradient_table.csv")
    assert table["runs"].sum() == len(want)
    got = table.set_index(["task", "policy", "dynamics", "regularizer", "method", "beta",
                           "steps"])["collapsed_final"].sort_index()
    counted = runs.groupby(["task", "policy", "dynamics", "regularizer", "method", "beta",
                            "steps"])["collapsed_final"].sum().sort_index()
    assert got.tolist() == counted.tolist()


def test_ledger_pools_and_findings(stage):
    workdir, config = stage
    results = workdir / config["paths"]["results"]
    ledger = pd.read_csv(results / "claims" / "policy_gradient.csv").set_index("claim")
    pools = pd.read_csv(results / "policy_gradient" / "pooled.csv")
    vanilla = pools[(pools["method"] == "vanilla") & ~pools["target_collapsed"]]
    for (regularizer, arm), part in vanilla.groupby(["regularizer", "arm"]):
        row = ledger.loc[f"vanilla_all_but_one_collapse_{regularizer}_{arm}"]
        assert row["cases"] == len(part)
        assert (row["status"], row["source"]) == ("observed", "C §6.1")
    findings = (workdir / config["paths"]["figures"] / "policy_gradient_findings.md").read_text()
    assert f"whose vanilla target does not itself collapse, " \
        f"{int((vanilla['collapsed'] >= vanilla['runs'] - 1).sum())} reproduce it" in findings


def test_results_do_not_depend_on_jobs(stage, tmp_path):
    """`policy_gradient.jobs` changes only how the runs are split: 1 job gives the same bytes
    for every run table, the pooled table, the margins, the summary and the findings."""
    workdir, config = stage
    results = config["paths"]["results"]
    names = [f"{results}/policy_gradient/{what}.csv" for what in ("margins", "pooled",
                                                                   "budgets")]
    names += _targets(config)[1:]
    names += [f"{results}/policy_gradient/runs/{name}.csv"
              for name, _, _ in expand_tasks(config["policy_gradient"]["tasks"])]
    other = copy_project(tmp_path / "one_job")
    one = dict(config, policy_gradient=dict(config["policy_gradient"], jobs=1))
    (other / "config" / "one_job.yaml").write_text(yaml.safe_dump(one))
    snakemake(other, *names, "--configfile", "config/one_job.yaml")
    for name in names:
        assert (other / name).read_bytes() == (workdir / name).read_bytes(), name
