"""Wall-time benchmark of the library's kernels against plain baselines.

Run ``python bench/run.py`` (full sizes) or ``python bench/run.py --quick`` (smaller
sizes, a smoke check). Runs every kernel below and prints one table with the columns
kernel, size, ours, baseline, ratio and a note: ours and baseline are wall times in
seconds (``time.perf_counter``, best of a few repeats), measured in the same run on the
same inputs, and ratio is baseline / ours.

Kernels (paper A: 1-5 and 8, paper B: 6, paper C: 7 and 9):

1. ``kl``: exact KL of best-of-n for 64 distinct log-spaced integers ``n`` in
   ``[1, 10^6]`` and a Dirichlet(1) reference over ``10^6`` outcomes with distinct
   rewards (a random permutation). Ours: one call ``bestofn.kl(p, r, n_grid)``.
   Baseline: sort by reward once, then a Python loop over ``n`` computing
   ``pmf = F^n - (F - p)^n`` and ``sum(pmf·log(pmf/p))`` over ``pmf > 0``. The note gives
   the max abs difference of the two (a sanity check, expected ~1e-9 or smaller).
   Target: ours under 1 s (groups whose best-of-n mass is below e^-48 of their reference
   mass are summed in closed form).
2. ``sample``: ``10^6`` best-of-n draws at ``n = 10^4`` from a ``10^4``-outcome
   reference. Ours: ``bestofn.sample``. Baseline: draw ``n`` outcomes from the reference
   (``searchsorted`` on the CDF) and keep the best reward, per best-of-n draw; it is
   timed on a few hundred draws and scaled linearly to the full count.
   Target: ours >= 100x faster than the baseline.
3. ``sample, flat in n``: our sampler, ``10^6`` draws at ``n = 10, 10^4, 10^8, 10^12``.
   The baseline column is the time at ``n = 10`` and the ratio ``t(10) / t(n)``.
   Target: ratio ~1 for every ``n`` (cost independent of ``n``).
4. ``win_rate``: exact best-of-n win rate for the 64 ``n`` and the ``10^6``-outcome reference
   of kernel 1. Ours: one call ``bestofn.win_rate(p, r, n_grid)``. Baseline: sort by reward
   once, then a Python loop over ``n`` computing ``pmf = F^n - (F - p)^n`` and
   ``sum(pmf·(F + F⁻)/2)``. The note gives the max abs difference.
   Target: ours no slower than the baseline.
5. ``win rate, sampled``: ``10^7`` (best-of-n draw, reference draw) pairs at ``n = 100`` from
   a ``10^4``-outcome reference, scored 1, 1/2, 0, with the 95% interval. Ours:
   ``winrate.sampled_win_rate`` with ``bestofn.sample``. Baseline: ``n`` reference draws and
   the best reward per pair, then the same scoring, timed on a subset and scaled.
   Target: ours >= 10x faster than the baseline.
6. ``best_of_n_vs_tilt``: best-of-N against the tilted optimum for length-m sequences
   (p = (0.5, 0.3, 0.2), r = (0, 1, 2), δ = 0.1, N = e^{mδ}). At ``m = 10^3``, ours
   (``memoryless.best_of_n_vs_tilt``, tilted FFT) against the direct log-space
   convolution (``method="exact"``, m convolutions in logs); the note gives the largest
   relative difference of the four outputs. At ``m = 10^6`` ours alone (target: about 1 s;
   the baseline and ratio columns stay empty).
7. ``forward_kl_target``: paper C's forward-KL target ``β p/(Λ − r)`` for 16 values of β
   log-spaced in ``[1e-6, 1e2]`` on a Dirichlet(1) reference over ``10^6`` outcomes with
   rewards ``rank/|Y|``. Ours: ``tilt.forward_kl_target`` (Brent's method on ``log s``,
   ``s = (Λ − max r)/β``, then one Newton step). Baseline: plain bisection on ``Λ`` over the
   same bracket until it is one floating-point step wide. The note gives the largest
   relative difference of the two targets (the bisection resolves ``Λ − max r`` only to one
   rounding step of ``Λ``, so its top masses lose digits at small β). Target: ours no slower
   than the baseline.
8. ``train, vectorised``: sampled policy-gradient training of paper C's "1 or 2" analogue
   (a 10%-valid reference preferring "1" 0.87:0.13, batch 64), ``runs`` runs over 4 cells
   (vanilla and MARA Algorithm 1 under reverse KL, vanilla and Algorithm 2 under forward KL,
   β = 0.01) with their own seeds. Ours: one ``trainer.train`` call with every run on its run
   axis. Baseline: a loop calling ``train`` once per run (what one job per seed did). The
   note gives the largest difference of the final log-probabilities (0: same numbers).
   Target: ours >= 5x faster than the loop at 120 runs (the ratio grows with the runs per
   call; a training job of the full study trains a few hundred runs per task at once).

8. ``samples by prompt``: paper A's Fig. 4 analysis of a sampling run, ``10^3`` prompts of
   ``10^3`` distinct outcomes each (Dirichlet(1) masses, rewards rounded to 0.01 so that
   some tie) and 16 values of n log-spaced in ``[1, 10^4]``: exact KL, expected estimator and
   win rate per prompt. Ours: ``study.samples.per_prompt`` (the table included). Baseline: a
   loop over prompts calling ``bestofn.kl``, ``bestofn.expected_kl_estimator`` and
   ``bestofn.win_rate`` once each per prompt. The note gives the max abs difference.
   Target: ours within 10 s.

Nothing here asserts on wall time; the table is for reading.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from tabulate import tabulate

from bonkl import bestofn, memoryless, tilt
from bonkl.plumbing.seeding import generator
from bonkl.rl import tasks, trainer
from bonkl.study import samples, winrate

HEADERS = ["kernel", "size", "ours", "baseline", "ratio", "note"]


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls of ``fn`` and the result of the last call."""
    best = np.inf
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def log_grid(count: int, top: int) -> np.ndarray:
    """``count`` distinct integers from 1 to ``top``, log-spaced (bumped up where rounding ties)."""
    grid = np.rint(np.logspace(0.0, np.log10(top), count)).astype(np.int64)
    for k in range(1, count):
        grid[k] = max(grid[k], grid[k - 1] + 1)
    if grid[-1] != top or np.unique(grid).size != count:
        raise ValueError(f"cannot place {count} distinct integers in [1, {top}]")
    return grid


def reference(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A Dirichlet(1) reference over ``size`` outcomes, rewards a random permutation."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(size))
    r = rng.permutation(size).astype(float)
    return p, r


def naive_kl(p: np.ndarray, r: np.ndarray, n_grid: np.ndarray) -> np.ndarray:
    """Baseline KL: plain ``F^n - F⁻^n`` in NumPy, one ``n`` at a time."""
    ps = p[np.argsort(r, kind="stable")]
    f = np.cumsum(ps)
    fminus = f - ps
    values = np.empty(n_grid.size)
    for i, n in enumerate(n_grid):
        pmf = f**n - fminus**n
        keep = pmf > 0
        values[i] = np.sum(pmf[keep] * np.log(pmf[keep] / ps[keep]))
    return values


def naive_win_rate(p: np.ndarray, r: np.ndarray, n_grid: np.ndarray) -> np.ndarray:
    """Baseline win rate: plain ``Σ (F^n - F⁻^n)·(F + F⁻)/2`` in NumPy, one ``n`` at a time."""
    ps = p[np.argsort(r, kind="stable")]
    f = np.cumsum(ps)
    fminus = f - ps
    mid = (f + fminus) / 2.0
    return np.array([np.sum((f**n - fminus**n) * mid) for n in n_grid])


def naive_sample(p, r, n: int, size: int, rng: np.random.Generator, chunk: int) -> np.ndarray:
    """Baseline sampler: ``n`` reference draws per best-of-n draw, keep the best reward."""
    cdf = np.cumsum(p)
    out = np.empty(size, dtype=np.int64)
    for start in range(0, size, chunk):
        rows = min(chunk, size - start)
        idx = np.searchsorted(cdf, rng.random((rows, n)), side="right")
        np.minimum(idx, p.size - 1, out=idx)  # cdf[-1] may round below 1
        best = np.argmax(r[idx], axis=1)
        out[start : start + rows] = idx[np.arange(rows), best]
    return out


def pow10(x: float) -> str:
    """``10^k`` for exact powers of ten, else the plain number."""
    k = np.log10(x)
    return f"10^{int(round(k))}" if x >= 100 and float(k).is_integer() else f"{x:g}"


def exact_over_n_grid(name: str, ours, naive, outcomes: int, repeats: int,
                      note: str = "") -> list[list]:
    """An exact quantity over a 64-point n grid: ``ours(p, r, n)`` in one call vs ``naive``'s
    per-n loop, on a ``outcomes``-outcome reference; the note gives the max abs difference."""
    p, r = reference(outcomes, seed=1)
    n_grid = log_grid(64, 10**6)
    t_ours, got = best_time(lambda: ours(p, r, n_grid), repeats)
    t_base, base = best_time(lambda: naive(p, r, n_grid), repeats)
    diff = float(np.max(np.abs(got - base)))
    size = f"|Y|={pow10(outcomes)}, 64 n in [1, 10^6]"
    return [[name, size, t_ours, t_base, t_base / t_ours, f"max|ours-base|={diff:.1e}{note}"]]


def kernel_kl(outcomes: int, repeats: int) -> list[list]:
    """Kernel 1: exact KL over a 64-point n grid, ours in one call vs a per-n loop."""
    return exact_over_n_grid("kl", bestofn.kl, naive_kl, outcomes, repeats,
                             " (the naive F^n - F⁻^n loses digits as F -> 1)")


def kernel_sample(outcomes: int, draws: int, base_draws: int, repeats: int) -> list[list]:
    """Kernel 2: best-of-n draws at n = 10^4, ours vs n reference draws + argmax."""
    n = 10**4
    p, r = reference(outcomes, seed=2)
    t_ours, _ = best_time(lambda: bestofn.sample(p, r, n, draws, np.random.default_rng(0)), repeats)
    t_small, _ = best_time(
        lambda: naive_sample(p, r, n, base_draws, np.random.default_rng(0), chunk=20), 1
    )
    t_base = t_small * draws / base_draws
    size = f"|Y|={pow10(outcomes)}, n=10^4, {pow10(draws)} draws"
    note = f"base timed on {base_draws} draws, scaled; target >= 100x"
    return [["sample", size, t_ours, t_base, t_base / t_ours, note]]


def kernel_flat(outcomes: int, draws: int, repeats: int) -> list[list]:
    """Kernel 3: our sampler at n = 10 .. 10^12; baseline column is t(n = 10)."""
    p, r = reference(outcomes, seed=2)
    times = {}
    for n in (10, 10**4, 10**8, 10**12):
        times[n], _ = best_time(
            lambda n=n: bestofn.sample(p, r, n, draws, np.random.default_rng(0)), repeats
        )
    rows = []
    for n, t in times.items():
        size = f"|Y|={pow10(outcomes)}, n={pow10(n)}, {pow10(draws)} draws"
        rows.append(["sample, flat in n", size, t, times[10], times[10] / t, "base = ours at n=10"])
    return rows


def kernel_memoryless(repeats: int) -> list[list]:
    """Kernel 6: best-of-N vs the tilt at m = 10^3 (FFT vs log-space convolution), 10^6."""
    p, r, delta = np.array([0.5, 0.3, 0.2]), np.array([0, 1, 2]), 0.1
    keys = ("reward_bon", "reward_tilt", "kl_bon", "kl_bon_to_tilt")
    t_ours, ours = best_time(lambda: memoryless.best_of_n_vs_tilt(p, r, 1000, delta, "fft"),
                             repeats)
    t_base, base = best_time(lambda: memoryless.best_of_n_vs_tilt(p, r, 1000, delta, "exact"),
                             repeats)
    diff = max(abs(ours[k] - base[k]) / abs(base[k]) for k in keys)
    rows = [["best_of_n_vs_tilt", "m=10^3, δ=0.1, N=e^100", t_ours, t_base, t_base / t_ours,
             f"base = log-space convolution; max rel diff {diff:.1e}"]]
    t_big, _ = best_time(lambda: memoryless.best_of_n_vs_tilt(p, r, 10**6, delta), repeats)
    rows.append(["best_of_n_vs_tilt", "m=10^6, δ=0.1, N=e^100000", t_big, None, None,
                 "ours alone; target about 1 s"])
    return rows


def kernel_win_rate(outcomes: int, repeats: int) -> list[list]:
    """Kernel 4: exact win rate over a 64-point n grid, ours in one call vs a per-n loop."""
    return exact_over_n_grid("win_rate", bestofn.win_rate, naive_win_rate, outcomes, repeats)


def kernel_sampled_win_rate(outcomes: int, pairs: int, base_pairs: int) -> list[list]:
    """Kernel 5: sampled win rate from ``pairs`` pairs at n = 100, ours vs n draws + argmax."""
    n = 100
    p, r = reference(outcomes, seed=3)

    def ours(size: int) -> tuple[float, float, float]:
        return winrate.sampled_win_rate(p, r, lambda m, g: bestofn.sample(p, r, n, m, g), size,
                                        np.random.default_rng(0))

    def base(size: int) -> tuple[float, float, float]:
        draw = lambda m, g: naive_sample(p, r, n, m, g, chunk=2000)  # noqa: E731
        return winrate.sampled_win_rate(p, r, draw, size, np.random.default_rng(0))

    t_ours, (mean, _, _) = best_time(lambda: ours(pairs), 1)
    t_small, _ = best_time(lambda: base(base_pairs), 1)
    t_base = t_small * pairs / base_pairs
    exact = bestofn.win_rate(p, r, n)
    size = f"|Y|={pow10(outcomes)}, n=100, {pow10(pairs)} pairs"
    note = f"base timed on {base_pairs} pairs, scaled; |mean-exact|={abs(mean - exact):.1e}"
    return [["win rate, sampled", size, t_ours, t_base, t_base / t_ours, note]]


def naive_forward_target(p: np.ndarray, r: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """Baseline forward-KL target: bisection on ``Λ`` in ``[max r + β p(C*), max r + β]``."""
    top = r.max()
    low, high = top + beta * p[r == top].sum(), top + beta
    while True:
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if np.sum(beta * p / (mid - r)) > 1.0:
            low = mid
        else:
            high = mid
    target = beta * p / (high - r)
    return target / target.sum(), high


def kernel_forward_target(outcomes: int, repeats: int) -> list[list]:
    """Kernel 7: forward-KL targets over 16 β, ours (Brent on log s) vs plain bisection on Λ."""
    p, rank = reference(outcomes, seed=4)
    r = rank / outcomes
    betas = np.logspace(-6, 2, 16)
    t_ours, ours = best_time(lambda: [tilt.forward_kl_target(p, r, b)[0] for b in betas],
                             repeats)
    t_base, base = best_time(lambda: [naive_forward_target(p, r, b)[0] for b in betas],
                             repeats)
    diff = max(float(np.max(np.abs(a - b) / b)) for a, b in zip(ours, base, strict=True))
    size = f"|Y|={pow10(outcomes)}, 16 β in [1e-6, 1e2]"
    return [["forward_kl_target", size, t_ours, t_base, t_base / t_ours,
             f"base = bisection on Λ; max rel diff {diff:.1e} (Λ − max r to one ulp of Λ)"]]


def kernel_samples(prompts: int, outcomes: int, repeats: int) -> list[list]:
    """Kernel 8: per-prompt exact KL, estimator and win rate, ours vs a loop of library calls."""
    rng = np.random.default_rng(8)
    prob = rng.dirichlet(np.ones(outcomes), size=prompts)
    reward = np.round(rng.random((prompts, outcomes)), 2)
    table = pd.DataFrame({"prompt": np.repeat(np.arange(prompts).astype(str), outcomes),
                          "prob": prob.ravel(), "reward": reward.ravel()})
    n_grid = np.unique(np.rint(np.logspace(0.0, 4.0, 16)))

    def base():
        return np.concatenate([np.column_stack([bestofn.kl(p, r, n_grid),
                                                bestofn.expected_kl_estimator(p, r, n_grid),
                                                bestofn.win_rate(p, r, n_grid)])
                               for p, r in zip(prob, reward, strict=True)])

    t_ours, got = best_time(lambda: samples.per_prompt(table, n_grid), repeats)
    t_base, want = best_time(base, repeats)
    diff = float(np.max(np.abs(got[["kl", "expected_estimator", "win_rate"]].to_numpy() - want)))
    size = f"{pow10(prompts)} prompts x {pow10(outcomes)} outcomes, {n_grid.size} n"
    return [["samples by prompt", size, t_ours, t_base, t_base / t_ours,
             f"base = a loop of library calls; max|ours-base|={diff:.1e}; target <= 10 s"]]


def kernel_train(runs: int, steps: int, repeats: int) -> list[list]:
    """Kernel 9: ``runs`` training runs, one vectorised call vs a loop of one-run calls."""
    spec = dict(vocabulary="0123456789", max_tokens=2, answers={"1": 1.0, "2": 1.0}, tau=1.0,
                corpus=dict(size=2000, smoothing=0.05, validity=0.1, preference=0.87,
                            counts="expected", suffixes={"3": 0.3, "7": 0.3, "0": 0.4}))
    task = tasks.build_task("bench", spec)
    reference, _ = tasks.pretrain_reference(task, generator(0, "bench", "corpus"))
    cells = [("reverse", "vanilla"), ("reverse", "algorithm_1"), ("forward", "vanilla"),
             ("forward", "algorithm_2")]
    specs = [trainer.Run(reg, method, 0.01) for k in range(runs)
             for reg, method in [cells[k % len(cells)]]]
    training = trainer.Training(steps=steps, batch=64, eval_every=50, coverage_share=0.25)

    def rngs():
        return [generator(0, "bench", k) for k in range(runs)]

    t_ours, ours = best_time(lambda: trainer.train(task, reference, specs, training, rngs()),
                             repeats)
    t_base, base = best_time(lambda: [trainer.train(task, reference, [run], training, [g])
                                      for run, g in zip(specs, rngs(), strict=True)], 1)
    diff = max(float(np.max(np.abs(ours.log_pi[k] - b.log_pi[0]))) for k, b in enumerate(base))
    size = f"{runs} runs x {steps} steps x batch 64"
    return [["train, vectorised", size, t_ours, t_base, t_base / t_ours,
             f"base = one train call per run; max|Δ log π| = {diff:.1e}; target >= 5x at 120"]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (~20 s smoke check)")
    args = parser.parse_args(argv)

    if args.quick:
        kl_outcomes, draws, base_draws, repeats = 10**5, 10**5, 40, 2
        pairs, base_pairs = 10**6, 10**4
    else:
        kl_outcomes, draws, base_draws, repeats = 10**6, 10**6, 200, 3
        pairs, base_pairs = 10**7, 10**5

    rows = []
    rows += kernel_kl(kl_outcomes, repeats)
    rows += kernel_sample(10**4, draws, base_draws, repeats)
    rows += kernel_flat(10**4, draws, repeats)
    rows += kernel_win_rate(kl_outcomes, repeats)
    rows += kernel_sampled_win_rate(10**4, pairs, base_pairs)
    rows += kernel_memoryless(repeats)
    rows += kernel_forward_target(kl_outcomes, repeats)
    rows += kernel_samples(10**2 if args.quick else 10**3, 10**3, repeats)
    rows += kernel_train(40 if args.quick else 120, 100 if args.quick else 1000, repeats)
    mode = "quick" if args.quick else "full"
    print(f"bonkl benchmark ({mode} sizes; ours and baseline in seconds, best of {repeats}; "
          "kernel 5 and the baselines of kernels 2 and 5 timed once; ratio = baseline/ours)")
    print(tabulate(rows, headers=HEADERS, floatfmt=("", "", ".4f", ".4f", ".1f", ""),
                   missingval="—"))


if __name__ == "__main__":
    main()
