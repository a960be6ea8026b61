"""Time and memory per stage of a Snakemake run, from its benchmark files.

Run ``python bench/stages.py`` after a run of the full study (or ``python bench/stages.py
benchmarks/test`` after one of ``config/test.yaml``). Every rule writes its Snakemake
``benchmark:`` file to ``<dir>/<rule>.tsv`` (one job) or ``<dir>/<rule>/<wildcards>.tsv``
(one file per job), with the columns ``s`` (wall time, seconds) and ``max_rss`` (MB; ``-``
or ``NA`` when not measured) among others. A rule's stage is the rules file that declares it,
``workflow/rules/<stage>.smk`` (``rule name:``, or ``name:`` of an unnamed ``rule:`` such as
``f"figure_{_figure}"``, which matches ``figure_<anything>``). Stages are listed in the order
the Snakefile includes them.

Prints one markdown table, a row per stage (``--by rule``: per rule), with the jobs, their
summed wall time and CPU time, the longest job and the peak ``max_rss``, then a total row;
files that match no rule are named below it. Summed job time is not the run's wall time:
jobs run side by side, and on a busy machine each one's time includes waiting for a core
(the CPU time does not).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
HEADERS = ["jobs", "summed job wall time [s]", "summed CPU time [s]", "longest job [s]",
           "peak max_rss [MB]"]

_NAMED = re.compile(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:")
_UNNAMED = re.compile(r"^\s*(?:rule|checkpoint)\s*:")
_NAME = re.compile(r"^\s*name\s*:\s*(.*)$")
_INCLUDE = re.compile(r"""^\s*include\s*:\s*["'](?:.*/)?(\w+)\.smk["']""")


def rule_patterns(smk: str) -> list[re.Pattern]:
    """Patterns of the rule names a rules file declares (an f-string's ``{...}`` matches any)."""
    lines = smk.splitlines()
    patterns = []
    for i, line in enumerate(lines):
        named = _NAMED.match(line)
        if named:
            patterns.append(re.compile(re.escape(named.group(1))))
        elif _UNNAMED.match(line):
            name = _unnamed_rule_name(lines[i + 1:])
            if name:
                parts = re.split(r"\{[^}]*\}", name)
                patterns.append(re.compile(".+".join(re.escape(part) for part in parts)))
    return patterns


def _unnamed_rule_name(lines: list[str]) -> str | None:
    """The (f-)string of the ``name:`` directive of an unnamed rule, before the next rule."""
    for k, line in enumerate(lines):
        if _NAMED.match(line) or _UNNAMED.match(line):
            return None
        match = _NAME.match(line)
        if match:
            value = match.group(1).strip() or (lines[k + 1].strip() if k + 1 < len(lines) else "")
            return re.sub(r"""^[fr]*["'](.*)["']$""", r"\1", value)
    return None


def stage_patterns(rules_dir: Path) -> dict[str, list[re.Pattern]]:
    """``{stage: rule-name patterns}`` for every ``<stage>.smk`` in ``rules_dir``."""
    return {path.stem: rule_patterns(path.read_text(encoding="utf-8"))
            for path in sorted(rules_dir.glob("*.smk"))}


def stage_order(snakefile: Path, stages) -> list[str]:
    """The stages in the order the Snakefile includes them, then any others by name."""
    included = [m.group(1) for line in snakefile.read_text(encoding="utf-8").splitlines()
                if (m := _INCLUDE.match(line))] if snakefile.exists() else []
    return [s for s in included if s in stages] + sorted(set(stages) - set(included))


def stage_of(rule: str, patterns: dict[str, list[re.Pattern]]) -> str | None:
    for stage, rules in patterns.items():
        if any(p.fullmatch(rule) for p in rules):
            return stage
    return None


@dataclass(frozen=True)
class Job:
    rule: str
    path: Path
    seconds: float  # summed over the file's rows (one per repeat)
    cpu_seconds: float  # CPU time (user + system), summed likewise
    max_rss: float  # MB, NaN when not measured


def read_job(path: Path, rule: str) -> Job:
    """One benchmark file: wall time ``s``, ``cpu_time`` and peak ``max_rss`` (``-``/``NA``:
    missing)."""
    table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
    missing = {"s", "cpu_time", "max_rss"} - set(table.columns)
    if missing or table.empty:
        raise ValueError(f"{path}: not a Snakemake benchmark file (needs rows and the columns "
                         f"s, cpu_time and max_rss; missing {sorted(missing)})")
    return Job(rule, path, float(table["s"].sum()), float(table["cpu_time"].sum()),
               float(table["max_rss"].max()))


def collect(directory: Path, patterns) -> tuple[list[tuple[Job, str]], list[Path]]:
    """Every job under ``directory`` with its stage, and the entries that match no rule."""
    jobs, unknown = [], []
    for entry in sorted(directory.iterdir()):
        rule = entry.stem if entry.suffix == ".tsv" else entry.name
        stage = stage_of(rule, patterns)
        files = [entry] if entry.is_file() else sorted(entry.rglob("*.tsv"))
        if stage is None or not files or (entry.is_file() and entry.suffix != ".tsv"):
            unknown.append(entry)
            continue
        jobs += [(read_job(path, rule), stage) for path in files]
    return jobs, unknown


def summarize(jobs: list[tuple[Job, str]], key: str, order: list[str]) -> list[list]:
    """Rows ``[key, jobs, summed s, summed CPU s, longest s, peak MB]`` by ``stage`` or ``rule``."""
    groups: dict[str, list[Job]] = {}
    for job, stage in jobs:
        groups.setdefault(stage if key == "stage" else job.rule, []).append(job)
    names = [n for n in order if n in groups] + sorted(set(groups) - set(order))
    rows = [[name, *_totals(groups[name])] for name in names]
    return rows + [["total", *_totals([job for job, _ in jobs])]] if rows else rows


def _totals(jobs: list[Job]) -> list:
    rss = [j.max_rss for j in jobs if not math.isnan(j.max_rss)]
    return [len(jobs), sum(j.seconds for j in jobs), sum(j.cpu_seconds for j in jobs),
            max(j.seconds for j in jobs), max(rss) if rss else None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default="benchmarks", type=Path,
                        help="benchmark directory of the run (default: benchmarks)")
    parser.add_argument("--rules", type=Path, default=ROOT / "workflow" / "rules",
                        help="directory of the rules files (default: workflow/rules)")
    parser.add_argument("--by", choices=["stage", "rule"], default="stage")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"error: no benchmark directory {args.directory}", file=sys.stderr)
        return 2
    patterns = stage_patterns(args.rules)
    jobs, unknown = collect(args.directory, patterns)
    order = stage_order(args.rules.parents[1] / "Snakefile", patterns)
    if args.by == "rule":
        order = sorted({job.rule for job, _ in jobs}, key=lambda r: (
            order.index(stage_of(r, patterns)), r))
    rows = summarize(jobs, args.by, order)
    print(tabulate(rows, headers=[args.by, *HEADERS], tablefmt="github",
                   floatfmt=("", "", ".1f", ".1f", ".1f", ".0f"), missingval="—"))
    if unknown:
        print("\nmatched no rule of " + str(args.rules) + ": "
              + ", ".join(str(p.relative_to(args.directory)) for p in unknown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
