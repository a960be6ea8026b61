"""The real Snakemake on a temporary copy of the project, for the workflow and cluster tests.

The copy holds the Snakefile, workflow/, config/, scripts/, src/, figures/, README.md and
docs/results/ (the full config renders its pages there); the jobs
import the installed ``bonkl``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ["Snakefile", "workflow", "config", "scripts", "src", "figures", "README.md",
          "docs/results"]


def snakemake(workdir: Path, *args: str, check: bool = True,
              cores: int | None = 2) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` (``cores=None`` leaves --cores out, e.g. for a profile)."""
    cores_option = ["--cores", str(cores)] if cores else []
    result = subprocess.run([sys.executable, "-m", "snakemake", *cores_option, *args],
                            cwd=workdir, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        command = " ".join(args)
        raise AssertionError(f"snakemake {command} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule name -> job count from a dry run's job stats (empty when nothing is to be done)."""
    out = snakemake(workdir, "-n", *args).stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def planned_figures(workdir: Path, *args: str) -> dict[str, set[str]]:
    """Stage -> names of the figures its ``figures_<stage>`` job would draw (the PNG outputs
    in a dry run's job listing)."""
    out = snakemake(workdir, "-n", *args).stdout
    figures = {}
    for job in re.finditer(r"^rule figures_(\w+):\n(.*?)(?=^\n|\Z)", out, re.M | re.S):
        outputs = re.search(r"^\s*output: (.*)$", job[2], re.M)[1].split(", ")
        figures[job[1]] = {Path(o).stem for o in outputs if o.endswith(".png")}
    return figures


def copy_project(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    (target / "profiles").symlink_to("workflow/profiles")
    return target


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
