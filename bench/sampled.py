"""Speed and memory of :func:`bonkl.sampled.analyze` on 10^4 prompts x 10^3 candidates.

Run ``python bench/sampled.py`` (``--prompts`` and ``--candidates`` to change the size). A
file of diffuse completions with continuous rewards and a heavy answer on every tenth prompt is
analysed at n = 1, 16, 256 with the default estimator and its jackknife intervals; the
baseline is a simple per-prompt loop (one ``analyze`` call per prompt) timed on a subset of the
prompts in the same run and scaled to all of them. Prints the wall and CPU times (on a
shared machine the CPU time is the steadier), the peak resident memory of the process and the
ratios baseline / vectorised. The target (issue 22, item 9):
at most 10 s and 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bonkl import sampled


def samples(prompts: int, candidates: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = prompts * candidates
    logprob = -60.0 + 10.0 * rng.standard_normal(size)
    reward = rng.standard_normal(size)
    heavy = (np.repeat(np.arange(prompts), candidates) % 10 == 0) & (rng.random(size) < 0.5)
    logprob[heavy] = np.log(0.5)
    reward[heavy] = 0.7
    completion = np.where(heavy, -1, np.arange(size))
    raw = pd.DataFrame({"prompt": np.repeat(np.arange(prompts), candidates),
                        "completion": completion, "logprob": logprob, "reward": reward})
    frame = (raw.groupby(["prompt", "completion"], sort=False)
             .agg(logprob=("logprob", "first"), reward=("reward", "first"),
                  count=("reward", "size")).reset_index())
    frame["prompt"] = "prompt " + frame["prompt"].astype(str)
    return frame


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=1_000)
    parser.add_argument("--baseline-prompts", type=int, default=100)
    args = parser.parse_args(argv)
    n = [1, 16, 256]
    frame = samples(args.prompts, args.candidates)
    start, cpu = time.perf_counter(), time.process_time()
    table = sampled.analyze(frame, n)
    vectorised, vectorised_cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # GiB (Linux: KiB)
    names = frame["prompt"].unique()[:args.baseline_prompts]
    subset = frame[frame["prompt"].isin(names)]
    start, cpu = time.perf_counter(), time.process_time()
    loop = [sampled.analyze(rows, n) for _, rows in subset.groupby("prompt", sort=False)]
    scale = args.prompts / len(names)
    baseline = (time.perf_counter() - start) * scale
    baseline_cpu = (time.process_time() - cpu) * scale
    check = pd.concat(loop, ignore_index=True)
    assert np.allclose(check["kl"], table[table["prompt"].isin(names)]["kl"], rtol=1e-12)
    print(f"`python bench/sampled.py --prompts {args.prompts} --candidates {args.candidates}`: "
          f"{len(frame)} rows, {len(table)} (prompt, n) rows; vectorised {vectorised:.2f} s "
          f"wall, {vectorised_cpu:.2f} s CPU, peak RSS {peak:.2f} GiB (with the input frame); "
          f"per-prompt loop {baseline:.1f} s wall, {baseline_cpu:.1f} s CPU (scaled from "
          f"{len(names)} prompts); ratio {baseline / vectorised:.1f}x wall, "
          f"{baseline_cpu / vectorised_cpu:.1f}x CPU")


if __name__ == "__main__":
    main()
