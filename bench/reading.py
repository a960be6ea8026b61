"""Reading a large sample file: ``load_samples`` against ``pandas.read_json(lines=True)``.

Run ``python bench/reading.py`` (a 200 MB JSON Lines file, the target of issue 22: at most
10 s) or ``python bench/reading.py --megabytes 20`` (a smoke check). The file is written
once, deterministically (``numpy.random.default_rng(seed)``), to ``--path`` (default: the
temporary directory, reused while its size and seed match): prompts of about 150
characters, completions of 20 to 140 characters, sequence log-probs from -5 to -3000 nats
and rewards, one sample per line, 8 % of the lines repeating an earlier completion of their
prompt (a log-prob off by up to 1e-4 nats, the batch noise the reader averages).

Each reader runs in a fresh subprocess, so that its peak memory (``ru_maxrss``) is its own:

- ours: :func:`bonkl.plumbing.userfile.load_samples` (read, validate every cell, merge
  duplicates, check each prompt's mass), the canonical samples frame;
- baseline: ``pandas.read_json(path, lines=True)``, which only parses the file.

Prints one table, columns reader, seconds (wall, best of ``--repeat``), CPU seconds (user +
system, all threads: the measure to trust on a busy machine), peak MB, rows, and the ratio
baseline seconds / ours; then the file and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = np.array("the a of model answer reward sample token prompt reference best policy "
                 "value number text short long first second next each every because which "
                 "where when while other never always often".split())


def write_file(path: Path, megabytes: float, seed: int) -> int:
    """The benchmark's JSON Lines file of about ``megabytes`` MB; returns its line count."""
    rng = np.random.default_rng(seed)
    line_bytes = 350  # measured on this layout
    lines = int(megabytes * 1e6 / line_bytes)
    prompts = max(1, lines // 256)
    prompt_text = [" ".join(rng.choice(WORDS, 28)) + f" #{k}" for k in range(prompts)]
    prompt_of = np.sort(rng.integers(0, prompts, lines))
    lengths = rng.integers(4, 26, lines)
    completion = [" ".join(rng.choice(WORDS, m)) + f" {k}" for k, m in enumerate(lengths)]
    logprob = -np.exp(rng.uniform(np.log(5.0), np.log(3000.0), lines))
    reward = rng.normal(size=lines)
    repeat = np.flatnonzero(rng.random(lines) < 0.08)
    repeat = repeat[repeat > 0]
    earlier = np.maximum(repeat - 1 - rng.integers(0, 50, repeat.size), 0)
    same = prompt_of[earlier] == prompt_of[repeat]
    repeat, earlier = repeat[same], earlier[same]
    noise = rng.uniform(-1e-4, 1e-4, repeat.size)
    first = np.arange(lines)  # the line each line repeats (itself if none), chains followed
    for k, j, e in zip(repeat, earlier, noise, strict=True):
        first[k] = first[j]
        completion[k], reward[k] = completion[first[k]], reward[first[k]]
        logprob[k] = logprob[first[k]] + e
    with path.open("w", encoding="utf-8") as out:
        for k in range(lines):
            out.write(json.dumps({"prompt": prompt_text[prompt_of[k]],
                                  "completion": completion[k],
                                  "logprob": float(logprob[k]), "reward": float(reward[k])})
                      + "\n")
    return lines


def child(reader: str, path: str) -> None:
    """Run one reader once in this process; print seconds, CPU seconds, peak MB and rows."""
    if reader == "ours":
        from bonkl.plumbing.userfile import load_samples  # imports outside the timing
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    if reader == "ours":
        rows = len(load_samples(path))
    else:
        rows = len(pd.read_json(path, lines=True))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024,
                      "rows": rows}))  # ru_maxrss: kB on Linux


def measure(reader: str, path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", reader, str(path)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "peak_mb": max(run["peak_mb"] for run in runs)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=200.0)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--repeat", type=int, default=1, help="runs per reader (best kept)")
    parser.add_argument("--path", type=Path, help="where to write (or reuse) the file")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    path = args.path or Path(tempfile.gettempdir()) / (
        f"bonkl-reading-{args.megabytes:g}MB-{args.seed}.jsonl")
    if not path.exists():
        start = time.perf_counter()
        write_file(path, args.megabytes, args.seed)
        print(f"wrote {path} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    ours = measure("ours", path, args.repeat)
    baseline = measure("pandas.read_json(lines=True)", path, args.repeat)
    rows = [("load_samples", ours), ("pandas.read_json(lines=True)", baseline)]
    print("| reader | seconds | CPU seconds | peak MB | rows | baseline / ours (wall) |")
    print("|---|---|---|---|---|---|")
    for name, run in rows:
        print(f"| {name} | {run['seconds']:.2f} | {run['cpu']:.2f} | {run['peak_mb']:.0f} | "
              f"{run['rows']:,} | {baseline['seconds'] / run['seconds']:.2f} |")
    print(f"\n`python bench/reading.py --megabytes {args.megabytes:g}`: {path} "
          f"({path.stat().st_size / 1e6:.0f} MB); {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, pandas "
          f"{pd.__version__}.")


if __name__ == "__main__":
    main()
