"""Reruns after an edit are exact: after a finished run of config/test.yaml, an edit to a
module of ``src/bonkl`` (one of each role in the default tier, every module in the slow tier)
schedules every rule whose script reaches that module, the rules downstream of them, and
nothing else; a config edit schedules only its own rules.

What a script reaches is found here independently of ``bonkl.pipeline.code_deps`` (which
reads the code with ``modulefinder``): a fresh interpreter runs the script's import
statements (and imports the module a dispatcher script loads by name) and reports which
``bonkl`` modules Python actually loaded. Rules, their scripts and their dispatch
parameters come from the real workflow, parsed by Snakemake; the rule graph from
``snakemake --rulegraph``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from workflow_runs import planned_jobs, snakemake

CONFIG = ("--configfile", "config/test.yaml")
PROBE = """
include: "Snakefile"
import json as _json
print("PROBE", _json.dumps({
    _rule.name: dict(script=_rule.script,
                     dynamic=[v for k, v in _rule.params.items() if k in ("plots", "claims")]
                     + sorted({f["plots"] for f in dict(_rule.params).get("figures", {}).values()}))
    for _rule in workflow.rules
}))
"""
LOADED = """
import ast, importlib, json, sys
script, dynamic = sys.argv[1], sys.argv[2:]
tree = ast.parse(open(script, encoding="utf-8").read())
imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
exec(compile(ast.Module(body=imports, type_ignores=[]), script, "exec"), {})
for name in dynamic:
    importlib.import_module(name)
print(json.dumps(sorted(m.__file__ for name, m in list(sys.modules.items())
                        if name.split(".")[0] == "bonkl" and getattr(m, "__file__", None))))
"""


def rule_scripts(workdir: Path) -> dict[str, tuple[str, list[str]]]:
    """Rule name -> (script file name, modules it imports by name), for rules with a script."""
    (workdir / "probe.smk").write_text(PROBE, encoding="utf-8")
    out = snakemake(workdir, "-s", "probe.smk", *CONFIG, "-n").stdout
    (workdir / "probe.smk").unlink()
    rules = json.loads(re.search(r"^PROBE (.*)$", out, re.M)[1])
    return {name: (Path(spec["script"]).name, spec["dynamic"])
            for name, spec in rules.items() if spec["script"]}


def loaded_modules(workdir: Path, script: str, dynamic: list[str]) -> set[str]:
    """Source files (relative to ``src/``) of the bonkl modules Python loads for a script."""
    src = workdir / "src"
    result = subprocess.run([sys.executable, "-c", LOADED, str(workdir / "scripts" / script),
                             *dynamic], capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=str(src)), cwd=workdir)
    files = [Path(f).resolve() for f in json.loads(result.stdout)]
    assert all(f.is_relative_to(src.resolve()) for f in files), files  # this copy's library
    return {str(f.relative_to(src.resolve())) for f in files}


def descendants(workdir: Path) -> dict[str, set[str]]:
    """Rule -> every rule downstream of it in ``snakemake --rulegraph``, itself included."""
    dot = snakemake(workdir, *CONFIG, "--rulegraph").stdout
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', dot, re.M))
    children: dict[str, set[str]] = {name: set() for name in names.values()}
    for parent, child in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.M):
        children[names[parent]].add(names[child])
    closure = {}
    for start in children:
        seen, todo = set(), [start]
        while todo:
            rule = todo.pop()
            if rule not in seen:
                seen.add(rule)
                todo.extend(children[rule])
        closure[start] = seen
    return closure


def scheduled_after_edit(workdir: Path, module: Path) -> set[str]:
    """Rules a dry run plans after a real edit of ``module``; the module is then restored
    (text and times), so the next edit starts from a finished run."""
    text, times = module.read_text(encoding="utf-8"), module.stat()
    module.write_text(text + "\n# edited by the test\n", encoding="utf-8")
    try:
        return set(planned_jobs(workdir, *CONFIG))
    finally:
        module.write_text(text, encoding="utf-8")
        os.utime(module, ns=(times.st_atime_ns, times.st_mtime_ns))


#: The default tier edits one module of each role (and one that no rule reaches); the slow
#: tier (``pytest -m slow``) edits every module of ``src/bonkl``.
REPRESENTATIVE = ["bonkl/__init__.py", "bonkl/bestofn.py", "bonkl/tilt.py", "bonkl/sampled.py",
                  "bonkl/mara.py", "bonkl/plots/style.py", "bonkl/plots/winrate.py",
                  "bonkl/study/ledger.py", "bonkl/study/policy_gradient.py",
                  "bonkl/rl/trainer.py", "bonkl/plumbing/tables.py",
                  "bonkl/plumbing/userfile.py", "bonkl/pipeline/code_deps.py", "bonkl/cli.py"]


def test_an_edit_to_a_module_of_each_role_reruns_exactly_the_rules_that_reach_it(project,
                                                                                 tmp_path):
    check_module_edits(project, tmp_path, REPRESENTATIVE)


@pytest.mark.slow
def test_an_edit_to_any_module_reruns_exactly_the_rules_that_reach_it(project, tmp_path):
    check_module_edits(project, tmp_path, None)


def check_module_edits(project: Path, tmp_path: Path, chosen: list[str] | None) -> None:
    """Edit each module of ``chosen`` (every module of ``src/bonkl`` if None) in turn, and
    check that a dry run schedules exactly the rules whose scripts reach it, and below."""
    scripts = rule_scripts(project)
    downstream = descendants(project)
    with ThreadPoolExecutor(4) as pool:
        reached = dict(zip(scripts, pool.map(lambda spec: loaded_modules(project, *spec),
                                             scripts.values()), strict=True))
    modules = sorted(str(p.relative_to(project / "src"))
                     for p in (project / "src" / "bonkl").rglob("*.py"))
    assert "bonkl/pipeline/code_deps.py" in modules and len(modules) > 40
    expected = {}
    for module in modules:
        users = {rule for rule, files in reached.items() if module in files}
        expected[module] = set().union(*(downstream[rule] for rule in users)) | (
            {"all"} if users else set())
    # every rule reaches the package's __init__, and some rule reaches each stage's module
    assert expected["bonkl/__init__.py"] >= set(scripts)
    assert "policy_gradient_train" in expected["bonkl/plumbing/seeding.py"]
    assert {"reference", "bestofn", "winrate"} <= expected["bonkl/plumbing/tables.py"]
    if chosen is not None:
        assert set(chosen) <= set(modules)
        modules = chosen

    # two copies of the finished run, edited side by side (each dry run is mostly start-up)
    copies = [project, tmp_path / "copy"]
    shutil.copytree(project, copies[1], symlinks=True)

    def check(index: int) -> list[str]:
        workdir = copies[index]
        wrong = []
        for module in modules[index::len(copies)]:
            got = scheduled_after_edit(workdir, workdir / "src" / module)
            if got != expected[module]:
                wrong.append(f"{module}: missing {sorted(expected[module] - got)}, "
                             f"extra {sorted(got - expected[module])}")
        return wrong

    with ThreadPoolExecutor(len(copies)) as pool:
        wrong = [line for lines in pool.map(check, range(len(copies))) for line in lines]
    assert not wrong, "\n".join(wrong)
    assert all(planned_jobs(workdir, *CONFIG) == {} for workdir in copies)


def test_a_config_edit_reruns_exactly_its_stage(project, test_config):
    edited = dict(test_config, bestofn=dict(test_config["bestofn"], mc_draws=150))
    (project / "config" / "edited.yaml").write_text(yaml.safe_dump(edited))
    jobs = planned_jobs(project, "--configfile", "config/edited.yaml")
    assert set(jobs) == {"bestofn", "figures_bestofn", "all"}
    assert jobs["bestofn"] == len(test_config["references"])
    assert planned_jobs(project, *CONFIG) == {}


def test_probe_sees_every_script(project):
    """Every script in scripts/ is some rule's script (none is left unchecked above)."""
    used = {script for script, _ in rule_scripts(project).values()}
    assert used == {p.name for p in (project / "scripts").glob("*.py")}
