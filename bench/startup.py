"""Start-up cost of the study's jobs: the CPU time a job's script spends importing.

Run ``python bench/startup.py``. Every Snakemake ``script:`` job starts a fresh Python that
imports ``snakemake.script`` and then what its script imports (pandas, matplotlib, seaborn,
scipy, the bonkl modules); for most jobs of the study that start-up costs more than their
work. For each script of ``scripts/`` this measures, in a fresh interpreter, the CPU time
(user + system, median of ``--repeats``) of ``import snakemake.script`` plus the script's
own imports, against the baseline of a bare ``python -c pass`` measured in the same run,
and prints one Markdown table (script, CPU seconds, ratio to the baseline), slowest first,
with the heaviest single module of each script (from ``python -X importtime``).
"""

from __future__ import annotations

import argparse
import ast
import re
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]


def imports_of(script: Path) -> list[str]:
    """Top-level modules a script imports (``import x`` and ``from x import y``)."""
    tree = ast.parse(script.read_text("utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n != "__future__"]


def cpu_of(code: str) -> float:
    """User + system CPU seconds of a fresh ``python -c code``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heaviest(code: str) -> str:
    """The module, among those ``code`` imports directly (``snakemake.script`` aside), with the
    largest cumulative import time in ``python -X importtime -c code``."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True,
                         capture_output=True, text=True, cwd=ROOT).stderr
    top = {}
    for match in re.finditer(r"^import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)$", err, re.M):
        if len(match[2]) == 1 and match[3] != "snakemake.script":  # depth 0: imported by code
            top[match[3]] = int(match[1])
    name, micros = max(top.items(), key=lambda kv: kv[1])
    return f"{name} ({micros / 1e6:.2f} s)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per script (median)")
    args = parser.parse_args(argv)
    baseline = statistics.median(cpu_of("pass") for _ in range(args.repeats))
    rows = []
    for script in sorted((ROOT / "scripts").glob("*.py")):
        code = "import snakemake.script\n" + "".join(
            f"import {name}\n" for name in imports_of(script))
        cpu = statistics.median(cpu_of(code) for _ in range(args.repeats))
        rows.append([script.name, cpu, cpu / baseline, heaviest(code)])
    rows.sort(key=lambda row: -row[1])
    print(f"baseline `python -c pass`: {baseline:.3f} s CPU\n")
    print(tabulate(rows, headers=["script", "start-up CPU [s]", "ratio to bare python",
                                  "heaviest import"], tablefmt="github", floatfmt=".2f"))


if __name__ == "__main__":
    main()
