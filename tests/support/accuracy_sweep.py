"""The accuracy sweep: every exact quantity of ``bonkl`` against an independent mpmath
computation (:mod:`mp_reference`) over a grid of cases that reaches its hardest regime.

One module for two users: ``bench/accuracy.py`` runs the full grids and prints the README's
table; ``tests/test_accuracy.py`` runs the quick grids (fewer cases, the same extremes) and
asserts each quantity's tolerance. A case is a dict of parameters: those named in
:data:`SHOWN` make up the "hardest regime" column, all of them the "where" column.

Errors are relative: ``|got − want| / max(|want|, 1e-300)`` (masses below the double range
are compared absolutely at 1e-300), and for logarithms ``|got − want| / max(|want|, 1)``;
a vector reports its worst entry. Both are computed in mpmath.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import mp_reference as mpr
import mpmath as mp
import numpy as np
from scipy import special
from tabulate import tabulate

from bonkl import bestofn, collapse, divergence, logspace, mara, memoryless, rewind, tilt, tradeoff
from bonkl.plumbing.seeding import generator
from bonkl.references import random_reference

FLOOR = 1e-300

# Parameters that describe how hard a case is, and which end is hard: "max" (largest value
# tested), "min" (smallest) or "range" (both ends).
SHOWN = {
    "n": "max", "n − 1": "min", "min p": "min", "p(C*)": "min", "1 − p(C*)": "min", "ε": "min",
    "λ": "range", "|λ|": "range", "β": "range", "Δ": "range", "1 − Δ/cap": "min",
    "m": "max", "m·δ": "max", "|x − mean|/|end − mean|": "range", "|log q/p| scale": "range",
    "|log p1/p2|": "range", "A": "range", "1 − A": "min", "|a|": "range", "|x|": "range",
}


# ------------------------------------------------------------------------------ references


def _tied_tiny_top():
    top = np.array([1e-300, 2e-300, 1e-200])
    return (np.r_[np.full(6, (1.0 - top.sum()) / 6), top],
            np.r_[np.arange(6.0), np.full(3, 7.0)])


def _ties():
    rng = generator(20240611, "accuracy sweep", "ties")
    return rng.dirichlet(np.full(30, 0.3)), rng.integers(0, 6, 30).astype(float)


def _bins():
    """Fig. 5's shape: 100 bins, a Gaussian reference, a well-supported good bump (0.75) and a
    poorly supported better one (1.0)."""
    y = np.linspace(-3.0, 3.0, 100)
    p = np.exp(-2.0 * (y - 1.0) ** 2)
    return p / p.sum(), np.where(np.abs(y + 2.0) < 0.5, 1.0, np.where(np.abs(y - 1.0) < 0.5,
                                                                       0.75, 0.0))


def _tiny_tail():
    p = np.array([1e-300, 1e-200, 1e-30, 1e-12, 1.0])
    return p / p.sum(), np.array([4.0, 3.0, 2.0, 1.0, 0.0])


REFERENCES = {
    "binary": (np.array([0.5, 0.5]), np.array([0.0, 1.0])),
    "tiny_top": (np.array([0.5, 0.3, 0.2 - 1e-300, 1e-300]), np.arange(4.0)),
    "tiny_tail": _tiny_tail(),
    "dominant_top": (np.array([1e-300, 1e-200, 1e-16, 9e-16, 1.0 - 1e-15]), np.arange(5.0)),
    "tied_tiny_top": _tied_tiny_top(),
    "ties_30": _ties(),
    "geometric_60": (0.5 ** np.arange(60.0) / np.sum(0.5 ** np.arange(60.0)), np.arange(60.0)),
    "uniform_1000": (np.full(1000, 1e-3), np.arange(1000.0)),
    "skewed": (np.array([0.6, 0.3, 0.0999, 1e-4]), np.array([0.0, 0.5, 0.9, 1.0])),
    "huge_gaps": (np.array([0.7, 0.2, 0.0999999, 1e-7]),
                  np.array([0.0, 1000.0, 999.99, 1000.0 - 1e-6])),
    "fig4": (np.array([0.68, 0.30, 0.02]), np.array([0.0, 1.0, 1.0])),
    "bins_100": _bins(),
}
_RANDOM = generator(20240611, "accuracy sweep", "random references")
REFERENCES.update({f"random_{k}": random_reference(_RANDOM, 12) for k in range(8)})

# integer (weights, rewards) of a memoryless per-token reference, p = w / Σw
TOKENS = {"three": ((5, 3, 2), (0, 1, 2)), "bernoulli": ((7, 3), (0, 1)),
          "gapped": ((2, 0, 1, 1), (-2, 7, 0, 4))}


def _token_reference(name):
    weights, rewards = TOKENS[name]
    return np.array(weights, float) / sum(weights), np.array(rewards, float)


def _masses(name) -> dict:
    """``min p`` and ``p(C*)`` of a named reference (display parameters)."""
    p, r = REFERENCES[name]
    return {"min p": float(np.min(p[p > 0])), "p(C*)": bestofn.top_mass(p, r)}


# --------------------------------------------------------------------- errors and results


def relative_error(got, want, log: bool = False) -> float:
    """The worst relative error of ``got`` (float or array) against ``want`` (mpf or list)."""
    got = np.atleast_1d(np.asarray(got, dtype=float)).ravel()
    want = want if isinstance(want, list | tuple) else [want]
    if len(want) != got.size:
        raise ValueError(f"{got.size} values against {len(want)} references")
    worst = mp.mpf(0)
    for g, w in zip(got, want, strict=True):
        w = mp.mpf(w)
        if g == w:  # equal infinities included
            continue
        if not (mp.isfinite(w) and math.isfinite(g)):
            return math.inf
        scale = max(abs(w), 1) if log else max(abs(w), FLOOR)
        worst = max(worst, abs(mp.mpf(g) - w) / scale)
    return float(worst)


@dataclass(frozen=True)
class Quantity:
    """An exact quantity: its case grid, and ``compute(case) -> ({output: got}, {output: want})``.

    Outputs are the values it returns ("" for one value); ``logs`` names the outputs that are
    logarithms; ``tolerance`` is what the tests assert (``tolerances`` per output), and
    ``note`` says why where it is looser than 1e-10.
    """

    name: str
    grid: Callable[[bool], list[dict]]
    compute: Callable[[dict], tuple[dict, dict]]
    tolerance: float = 1e-10
    tolerances: dict = field(default_factory=dict)
    logs: frozenset = frozenset()
    note: str = ""


@dataclass(frozen=True)
class Row:
    quantity: str
    regime: str
    cases: int
    worst: float
    where: str
    tolerance: float
    note: str


def fmt(x) -> str:
    """Compact numbers: powers of ten as ``1e-300``, close to 1 as ``1 − 1e-15``."""
    if isinstance(x, str):
        return x
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if 0.999 < x < 1.001 and x != 1:
        return f"1 − {fmt(1 - x)}" if x < 1 else f"1 + {fmt(x - 1)}"
    k = math.log10(abs(x))
    if abs(k - round(k)) < 1e-9 and abs(k) >= 3:
        return f"{'-' if x < 0 else ''}1e{round(k)}"
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.3g}"


def label(case: dict) -> str:
    return ", ".join(f"{k}={fmt(v)}" if k != "ref" else str(v) for k, v in case.items())


def regime(cases: list[dict]) -> str:
    """The hard end of every :data:`SHOWN` parameter over ``cases``."""
    parts = []
    for key, end in SHOWN.items():
        values = [float(c[key]) for c in cases if key in c]
        if not values:
            continue
        if end == "max":
            parts.append(f"{key} ≤ {fmt(max(values))}")
        elif end == "min":
            parts.append(f"{key} ≥ {fmt(min(values))}")
        else:
            parts.append(f"{key} ∈ [{fmt(min(values))}, {fmt(max(values))}]")
    return "; ".join(parts)


def evaluate(quantity: Quantity, quick: bool) -> list[Row]:
    """Run every case of the grid; one row per output with its worst error and where."""
    cases = quantity.grid(quick)
    worst: dict[str, tuple[float, str, int]] = {}
    for case in cases:
        got, want = quantity.compute(case)
        for output, value in got.items():
            error = relative_error(value, want[output], output in quantity.logs)
            old, where, count = worst.get(output, (-1.0, "", 0))
            worst[output] = (error, label(case), count + 1) if error > old else \
                (old, where, count + 1)
    return [Row(f"{quantity.name} → {output}" if output else quantity.name, regime(cases),
                count, error, where, quantity.tolerances.get(output, quantity.tolerance),
                quantity.note) for output, (error, where, count) in worst.items()]


HEADERS = ["quantity", "hardest regime tested", "cases", "worst rel. error", "where",
           "test tolerance"]


def markdown(rows: list[Row]) -> str:
    """The table, then one line per quantity with a note (why its tolerance is looser)."""
    cells = [[r.quantity, r.regime, r.cases, f"{r.worst:.1e}", r.where, f"{r.tolerance:.0e}"]
             for r in rows]
    table = tabulate([[str(c).replace("|", "\\|") for c in row] for row in cells],
                     headers=HEADERS, tablefmt="github", disable_numparse=True)
    notes = dict.fromkeys(f"- {r.quantity.split(' → ')[0]}: {r.note}" for r in rows if r.note)
    return table + ("\n\n" + "\n".join(notes) if notes else "")


# -------------------------------------------------------------------------------- grids


def _product(refs, quick_refs, quick: bool, **axes) -> list[dict]:
    """Every ``ref`` × axis combination; an axis is ``(full values, quick values)``; no
    ``ref`` key when ``refs`` is None."""
    cases = [{}] if refs is None else [{"ref": ref} for ref in (quick_refs if quick else refs)]
    for key, (full, fast) in axes.items():
        cases = [{**c, key: v} for c in cases for v in (fast if quick else full)]
    return cases


_NAMED = ["binary", "tiny_top", "tiny_tail", "dominant_top", "tied_tiny_top", "ties_30",
          "geometric_60"]
_BESTOFN_REFS = [*_NAMED, "uniform_1000", *(f"random_{k}" for k in range(8))]
_N = ([2, 3, 10, 1e3, 1e6, 1e9, 1e12], [2, 1e3, 1e12])


def _bestofn_grid(quick):
    cases = _product(_BESTOFN_REFS, [*_NAMED, "random_0", "random_1"], quick, n=_N)
    return [{**c, "min p": _masses(c["ref"])["min p"]} for c in cases]


def _per_reference(ours, theirs):
    """``compute`` for ``f(p, r, n)`` quantities of paper A."""
    def compute(case):
        p, r = REFERENCES[case["ref"]]
        return {"": ours(p, r, case["n"])}, {"": theirs(p, r, case["n"])}
    return compute


def _kl_estimator(case):
    eps, n = case["ε"], case["n"]
    return {"": bestofn.kl_estimator(eps, n)}, {"": mpr.estimator(eps, n)}


def _kl_formula(case):
    return {"": bestofn.kl_formula(case["n"])}, {"": mpr.formula(case["n"])}


_TILT_REFS = ["skewed", "huge_gaps", "tiny_top", "dominant_top", "tiny_tail", "ties_30"]
_TILT_QUICK = ["huge_gaps", "tiny_top", "dominant_top"]


def _tilt_grid(key, full, fast, **extra):
    def grid(quick):
        return [{**c, **{k: _masses(c["ref"])[k] for k in extra.get("shown", ())}}
                for c in _product(_TILT_REFS, _TILT_QUICK, quick, **{key: (full, fast)})]
    return grid


def _log_tilt(case):
    p, r = REFERENCES[case["ref"]]
    return {"": tilt.log_tilt(p, r, case["λ"])}, {"": mpr.log_tilt(p, r, case["λ"])}


def _reverse_target(case):
    p, r = REFERENCES[case["ref"]]
    with mp.workdps(mpr.DIGITS + 30):
        want = [mp.exp(x) for x in mpr.log_tilt(p, r, 1 / mp.mpf(case["β"]))]
    return {"": tilt.reverse_kl_target(p, r, case["β"])}, {"": want}


def _cgf(case):
    p, r = REFERENCES[case["ref"]]
    lam = case["sign"] * case["|λ|"]
    return {"": tilt.cgf(p, r, lam)}, {"": mpr.cgf(p, r, lam)}


def _cgf_grid(quick):
    # not tiny_tail: there Λ(1) = 1.7e-12 (p sits at r = 0) and the rounding of Σp = 1 alone
    # moves it by 1e-16 (6e-5 relative); that limit is stated in the README
    refs = [name for name in _TILT_REFS if name != "tiny_tail"]
    return _product(refs, _TILT_QUICK, quick, sign=([1, -1], [1, -1]),
                    **{"|λ|": ([1e-12, 1e-6, 1e-2, 1.0, 1e2, 1e4, 1e8], [1e-12, 1.0, 1e8])})


def _tilt_kl(case):
    p, r = REFERENCES[case["ref"]]
    return {"": tilt.tilt_kl(p, r, case["λ"])}, {"": mpr.tilt_kl(p, r, case["λ"])}


def _kl_cap_grid(quick):
    refs = [name for name in REFERENCES if name != "uniform_1000"]
    cases = []
    for ref in refs[:6] if quick else refs:
        p, r = REFERENCES[ref]
        top = bestofn.top_mass(p, r)
        rest = float(np.sum(p[r < r.max()]))
        cases.append({"ref": ref, "p(C*)": top, **({"1 − p(C*)": rest} if rest else {})})
    return cases


def _kl_cap(case):
    p, r = REFERENCES[case["ref"]]
    return {"": tilt.kl_cap(p, r)}, {"": mpr.kl_cap(p, r)}


_DELTAS = ([1e-300, 1e-45, 1e-30, 1e-18, 1e-10, 1e-3], [1e-300, 1e-18])
_NEAR_CAP = ([0.75, 0.5, 0.1, 1e-4, 1e-6, 1e-8], [0.5, 1e-8])  # 1 − Δ/cap


def _deltas_below_cap(cap: float, quick: bool) -> list[dict]:
    """Absolute Δ below half the cap, then Δ at ``cap·(1 − f)``."""
    absolute = [{"Δ": d} for d in (_DELTAS[1] if quick else _DELTAS[0]) if d < cap / 2]
    near = [{"Δ": cap * (1 - f), "1 − Δ/cap": f} for f in (_NEAR_CAP[1] if quick
                                                            else _NEAR_CAP[0])]
    return absolute + near


def _kl_constrained_grid(quick):
    refs = ["skewed", "tiny_top", "huge_gaps", "ties_30"] if quick else \
        ["skewed", "tiny_top", "dominant_top", "huge_gaps", "ties_30", "tied_tiny_top"]
    return [{"ref": ref, **d} for ref in refs
            for d in _deltas_below_cap(tilt.kl_cap(*REFERENCES[ref]), quick)]


def _kl_constrained(case):
    p, r = REFERENCES[case["ref"]]
    phi, lam = tilt.kl_constrained(p, r, case["Δ"])
    want_lam, want_phi = mpr.kl_constrained(p, r, case["Δ"])
    return {"φ": phi, "λ": lam}, {"φ": want_phi, "λ": want_lam}


def _forward_target(case):
    p, r = REFERENCES[case["ref"]]
    target, lam = tilt.forward_kl_target(p, r, case["β"])
    want_target, want_lam = mpr.forward_target(mpr.normalized(p), r, case["β"])
    return {"G": target, "Λ": lam}, {"G": want_target, "Λ": want_lam}


def _cgf_derivatives_grid(quick):
    return _product(["skewed", "ties_30", "tiny_top", "huge_gaps"], ["skewed", "huge_gaps"],
                    quick, λ=([0.0, 0.5, 2.5, 10.0, 100.0, 1e4], [0.0, 1e4]))


def _cgf_derivatives(case):
    p, r = REFERENCES[case["ref"]]
    got = tilt.cgf_derivatives(p, r, case["λ"])
    want = mpr.cgf_derivatives(p, r, case["λ"])
    return ({f"κ{k + 1}": got[k] for k in range(4)}, {f"κ{k + 1}": want[k] for k in range(4)})


# -------------------------------------------------------------------------- memoryless (B)

_MEMORYLESS = (
    [("three", 0.05, 10), ("three", 0.05, 1000), ("three", 0.3, 1000), ("three", 1.0, 1000),
     ("three", 1.6, 1000), ("bernoulli", 0.5, 7), ("bernoulli", 0.01, 1000),
     ("bernoulli", 1.2, 1000), ("gapped", 0.2, 3), ("gapped", 0.2, 400)],
    [("three", 0.05, 10), ("three", 1.6, 1000), ("bernoulli", 0.5, 7), ("gapped", 0.2, 400)],
)


def _memoryless_grid(methods):
    def grid(quick):
        return [{"ref": ref, "δ": delta, "m": m, "m·δ": m * delta, **({"method": method}
                                                                       if methods else {})}
                for ref, delta, m in _MEMORYLESS[quick]
                for method in (methods if methods else [None]) if method != "fft" or m >= 100]
    return grid


@functools.cache
def _memoryless_mp(ref, m, delta):
    return mpr.memoryless(*TOKENS[ref], m, delta)


_BON_VS_TILT = ("reward_bon", "reward_tilt", "kl_bon", "kl_bon_to_tilt", "kl_formula", "lam")


def _best_of_n_vs_tilt(case):
    p, r = _token_reference(case["ref"])
    got = memoryless.best_of_n_vs_tilt(p, r, case["m"], case["δ"], method=case["method"])
    want = _memoryless_mp(case["ref"], case["m"], case["δ"])
    return {k: got[k] for k in _BON_VS_TILT}, {k: want[k] for k in _BON_VS_TILT}


def _log_reverse_kl(case):
    p, r = _token_reference(case["ref"])
    want = _memoryless_mp(case["ref"], case["m"], case["δ"])["log_reverse_kl"]
    return {"": memoryless.log_reverse_kl(p, r, case["m"], case["δ"])}, {"": want}


_RATE_REFS = ["three", "bernoulli", "skewed"]


def _rate_reference(ref):
    return _token_reference(ref) if ref in TOKENS else REFERENCES[ref]


def _rate_grid(quick):
    offsets = [1e-6, 0.5, 1 - 1e-9, 1 - 1e-12, 1.0]
    offsets = ([-1.0, -0.5, -1e-6, *offsets], [-1.0, 1e-6, 1 - 1e-12, 1.0])[quick]
    return [{"ref": ref, "λ": lam, "s": s, "|x − mean|/|end − mean|": abs(s)}
            for ref in _RATE_REFS for lam in ([0.0, 0.5, 3.0], [0.0, 3.0])[quick] for s in offsets]


def _x_of(p, r, lam, offset):
    """``mean + |s|·(end − mean)`` under ``φ_λ``, the end above the mean if ``s > 0``."""
    phi = np.exp(tilt.log_tilt(p, r, lam))
    mean = float(phi @ r)
    end = r[p > 0].max() if offset > 0 else r[p > 0].min()
    return end if abs(offset) == 1.0 else mean + abs(offset) * (end - mean)


def _rate_function(case):
    p, r = _rate_reference(case["ref"])
    x = _x_of(p, r, case["λ"], case["s"])
    return ({"": memoryless.rate_function(p, r, case["λ"], x)},
            {"": mpr.rate_function(p, r, case["λ"], x)})


_TAIL_LAM = 0.5
_TAIL_OFFSETS = (1e-3, 0.5, 1.0)


def _tail_rate_grid(quick):
    return [{"ref": ref, "m": m, "|x − mean|/|end − mean|": s}
            for ref in TOKENS for m in ([10, 100, 1000], [10, 1000])[quick]
            for s in _TAIL_OFFSETS]


@functools.cache
def _tail_rates(ref, m):
    """Ours and mpmath's tail rates at every offset of :data:`_TAIL_OFFSETS` (one law each)."""
    p, r = _token_reference(ref)
    xs = [_x_of(p, r, _TAIL_LAM, s) for s in _TAIL_OFFSETS]
    return (memoryless.tail_rate(p, r, _TAIL_LAM, m, xs),
            mpr.tail_rates(*TOKENS[ref], _TAIL_LAM, m, xs))


def _tail_rate(case):
    got, want = _tail_rates(case["ref"], case["m"])
    k = _TAIL_OFFSETS.index(case["|x − mean|/|end − mean|"])
    return {"": got[k]}, {"": want[k]}


# --------------------------------------------------------------------------------- MARA (C)

_MARA = {"fig4": 1.0, "bins_100": 0.7, "skewed": 0.9, "tiny_top": 2.0}  # reference: τ
_MARA_BETAS = ([1e-8, 1e-4, 1e-2, 0.5, 10.0, 1e4], [1e-8, 0.5, 1e4])
_ALGORITHMS = {"Alg. 1": "algorithm_1", "Alg. 2": "algorithm_2"}


def _mara_grid(quick):
    return [{**c, "min p": _masses(c["ref"])["min p"]}
            for c in _product(list(_MARA), ["bins_100", "tiny_top"], quick, β=_MARA_BETAS)]


def _mara_reverse(case):
    p, r = REFERENCES[case["ref"]]
    beta, tau = case["β"], _MARA[case["ref"]]
    got = {name: mara.log_reverse_target(p, r, beta, tau, alg) for name, alg in
           _ALGORITHMS.items()}
    want = {name: mpr.log_gibbs(*mpr.mara_problem(p, r, beta, tau, alg), beta)
            for name, alg in _ALGORITHMS.items()}
    return got, want


def _mara_forward(case):
    p, r = REFERENCES[case["ref"]]
    beta, tau = case["β"], _MARA[case["ref"]]
    got, want = {}, {}
    for name, alg in _ALGORITHMS.items():
        got[f"G ({name})"], got[f"Λ ({name})"] = mara.forward_target(p, r, beta, tau, alg)
        want[f"G ({name})"], want[f"Λ ({name})"] = mpr.forward_target(
            *mpr.mara_problem(p, r, beta, tau, alg), beta)
    return got, want


# ------------------------------------------------------------------------ crossovers (C)


def _reverse_crossover_grid(quick):
    """``p1 = 0.3``, ``p2 = p1/(1 + d)``, rewards ``0`` and ``gap``."""
    ratios = ([1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e10, 3e299], [1e-12, 3e299])[quick]
    return [{"p1/p2 − 1": d, "gap": gap, "|log p1/p2|": math.log1p(d)} for d in ratios
            for gap in ([1e-12, 1.0, 1e6], [1e-12, 1e6])[quick]]


def _reverse_crossover(case):
    p1, gap = 0.3, case["gap"]
    p2 = p1 / (1 + case["p1/p2 − 1"])
    return ({"": collapse.reverse_crossover_beta(p1, p2, 0.0, gap)},
            {"": mpr.reverse_crossover_beta(p1, p2, 0.0, gap)})


def _forward_crossover_grid(quick):
    shares = ([1 - 1e-12, 1 - 1e-6, 0.99, 0.5, 1e-3, 1e-300], [1 - 1e-12, 1e-300])[quick]
    return [{"p_j/p_i": s, "|log p1/p2|": abs(math.log(s))} for s in shares]


def _forward_crossover(case):
    p = np.array([0.0, 0.3, 0.3 * case["p_j/p_i"]])
    p[0] = 1.0 - p[1] - p[2]
    r = np.array([0.0, 0.75, 1.0])
    beta, lam = collapse.forward_crossover(p, r, 1, 2)
    want_beta, want_lam = mpr.forward_crossover(p, r, 1, 2)
    return {"β*": beta, "Λ*": lam}, {"β*": want_beta, "Λ*": want_lam}


# --------------------------------------------------------- rewind and the trade-off (A)


def _rewind_grid(quick):
    refs = (["tiny_top", "tiny_tail", "dominant_top", "tied_tiny_top", "ties_30"],
            ["tiny_top", "dominant_top", "tied_tiny_top"])[quick]
    cases = []
    for ref in refs:
        p, r = REFERENCES[ref]
        for tau in np.unique(r[p > 0]):
            below = float(np.sum(p[r < tau]))  # A as 1 − below when that is accurate
            accept = 1.0 - below if below < 0.5 else float(np.sum(p[r >= tau]))
            cases.append({"ref": ref, "τ": tau, "A": accept, **({"1 − A": below} if below else {})})
    return cases


def _rewind(case):
    p, r = REFERENCES[case["ref"]]
    tau = case["τ"]
    got = {"KL": rewind.kl(p, r, tau), "W": rewind.win_rate(p, r, tau),
           "draws": rewind.expected_draws(p, r, tau)}
    return got, dict(zip(got, mpr.rewind(p, r, tau), strict=True))


def _optimum_grid(quick):
    refs = (["tiny_top", "skewed", "ties_30", "tied_tiny_top", "binary"],
            ["tiny_top", "ties_30"])[quick]
    return [{"ref": ref, **d} for ref in refs
            for d in _deltas_below_cap(tilt.kl_cap(*REFERENCES[ref]), quick)]


def _optimum(case):
    p, r = REFERENCES[case["ref"]]
    return ({"": tradeoff.optimum_win_rate(p, r, [case["Δ"]])[0]},
            {"": mpr.optimum_win_rate(p, r, case["Δ"])})


def _continuous(case):
    kl, win = tradeoff.continuous_optimum(case["λ"])
    want_kl, want_win = mpr.continuous_closed_form(case["λ"])
    return {"KL": kl, "W": win, "1 − W": 1 - win}, {"KL": want_kl, "W": want_win,
                                                     "1 − W": 1 - want_win}


def _continuous_inverse(case):
    return ({"": tradeoff.continuous_optimum_win_rate(case["Δ"])},
            {"": mpr.continuous_win_rate_at(case["Δ"])})


def _best_of_n_at_kl_grid(quick):
    targets = {"geometric_60": ([2, 10, 1e3, 1e6, 1e12], [2, 1e12]),
               "skewed": ([2, 10, 100], [10]), "ties_30": ([2, 10, 100], [])}
    return [{"ref": ref, "n": n} for ref, ns in targets.items() for n in ns[quick]]


def _best_of_n_at_kl(case):
    p, r = REFERENCES[case["ref"]]
    delta = float(mpr.kl(p, r, case["n"] + 0.5))  # between KL(n) and KL(n + 1)
    got = tradeoff.best_of_n_at_kl(p, r, delta)
    return {"n": got[0], "W": got[1]}, dict(zip(("n", "W"), mpr.best_of_n_at_kl(p, r, delta),
                                                strict=True))


# ------------------------------------------------------------------- log-space helpers


def _kl_from_logs_grid(quick):
    return _product(["tiny_top", "ties_30", "uniform_1000"], ["tiny_top"], quick,
                    **{"|log q/p| scale": ([1e-8, 1e-4, 0.1, 1.0, 10.0], [1e-8, 10.0])},
                    **{"some q = 0": (["no", "yes"], ["yes"])})


def _kl_from_logs(case):
    p, _ = REFERENCES[case["ref"]]
    log_p = np.log(p)
    z = generator(7, "accuracy sweep", case["ref"]).normal(size=p.size)
    log_q = log_p + case["|log q/p| scale"] * z
    if case["some q = 0"] == "yes":
        log_q[(z < 0) & (z < z.max())] = -np.inf
    log_q -= special.logsumexp(log_q)
    return ({"": divergence.kl_from_logs(log_q, log_p)},
            {"": mpr.kl_from_logs(log_q, log_p)})


def _log1mexp(case):
    return {"": logspace.log1mexp(-case["|a|"])}, {"": mpr.log1mexp(-case["|a|"])}


_LOG_HALF = float(np.log(2.0))
_A = ([1e-300, 1e-100, 1e-20, 1e-8, 0.1, np.nextafter(_LOG_HALF, 0), _LOG_HALF,
       np.nextafter(_LOG_HALF, 1), 1.0, 10.0, 100.0, 700.0, 1e4],
      [1e-300, _LOG_HALF, np.nextafter(_LOG_HALF, 1), 1e4])


def _log_mean_exp(case):
    p, _ = REFERENCES[case["ref"]]
    x = case["|x|"] * generator(8, "accuracy sweep", case["ref"]).uniform(0.5, 1.0, p.size)
    with mp.workdps(mpr.DIGITS + 30 + 300):
        want = mp.log(mp.fsum(pi * mp.exp(mp.mpf(xi)) for pi, xi in zip(mpr.normalized(p), x,
                                                                         strict=True)))
    return {"": logspace.log_mean_exp(p, x)}, {"": want}


# ----------------------------------------------------------------------------- the list

_CAP_NOTE = ("ill-conditioned as Δ → cap: λ moves by ~ε·Δ/(cap − Δ) and a mass off C* by that "
             "times λ·(its reward gap) when Δ or the cap move by one rounding")

QUANTITIES = [
    Quantity("bestofn.pmf", _bestofn_grid, _per_reference(bestofn.pmf, mpr.pmf)),
    Quantity("bestofn.kl", _bestofn_grid, _per_reference(bestofn.kl, mpr.kl)),
    Quantity("bestofn.expected_kl_estimator", _bestofn_grid,
             _per_reference(bestofn.expected_kl_estimator, mpr.expected_estimator)),
    Quantity("bestofn.win_rate", _bestofn_grid, _per_reference(bestofn.win_rate, mpr.win_rate)),
    Quantity("bestofn.kl_estimator",
             lambda quick: _product(None, None, quick, **{
                 "ε": ([1e-300, 1e-100, 1e-10, 1e-3, 0.3, 0.5, 0.9, 1 - 1e-15],
                       [1e-300, 0.5, 1 - 1e-15]), "n": _N}),
             _kl_estimator),
    Quantity("bestofn.kl_formula",
             lambda quick: [{"n": n, **({"n − 1": n - 1} if n < 2 else {})}
                            for n in ([1 + 1e-12, 1 + 1e-6, 1.01, 1.11, 2, 10, 1e3, 1e6, 1e9,
                                       1e12, 1e15], [1 + 1e-12, 1.11, 2, 1e15])[quick]],
             _kl_formula),
    Quantity("tilt.log_tilt", _tilt_grid("λ", [1e-12, 1e-6, 1e-2, 1.0, 1e2, 1e4, 1e8, 1e12,
                                               math.inf], [1e-12, 1e12, math.inf]),
             _log_tilt, logs=frozenset({""})),
    Quantity("tilt.reverse_kl_target",
             _tilt_grid("β", [1e-12, 1e-8, 1e-4, 0.05, 1.0, 1e4, 1e8], [1e-12, 1.0, 1e8]),
             _reverse_target),
    Quantity("tilt.cgf", _cgf_grid, _cgf),
    Quantity("tilt.tilt_kl", _tilt_grid("λ", [1e-100, 1e-12, 1e-6, 1e-2, 1.0, 1e2, 1e4, 1e8,
                                              math.inf], [1e-100, 1.0, 1e8, math.inf]),
             _tilt_kl),
    Quantity("tilt.kl_cap", _kl_cap_grid, _kl_cap),
    Quantity("tilt.kl_constrained", _kl_constrained_grid, _kl_constrained,
             tolerances={"φ": 1e-6, "λ": 1e-8}, note=_CAP_NOTE),
    Quantity("tilt.forward_kl_target",
             _tilt_grid("β", [1e-12, 1e-8, 1e-4, 1e-2, 1.0, 1e2, 1e4, 1e8], [1e-12, 1.0, 1e8],
                        shown=("p(C*)",)),
             _forward_target),
    Quantity("tilt.cgf_derivatives", _cgf_derivatives_grid, _cgf_derivatives),
    Quantity("memoryless.best_of_n_vs_tilt", _memoryless_grid(["exact", "fft"]),
             _best_of_n_vs_tilt, tolerance=1e-8),
    Quantity("memoryless.log_reverse_kl", _memoryless_grid([]), _log_reverse_kl,
             logs=frozenset({""})),
    Quantity("memoryless.rate_function", _rate_grid, _rate_function, tolerance=3e-8,
             note="ill-conditioned as x → mean (I ∝ (x − mean)²): ε·|x|/|x − mean|"),
    Quantity("memoryless.tail_rate", _tail_rate_grid, _tail_rate),
    Quantity("mara.log_reverse_target", _mara_grid, _mara_reverse,
             logs=frozenset(_ALGORITHMS)),
    Quantity("mara.forward_target", _mara_grid, _mara_forward),
    Quantity("collapse.reverse_crossover_beta", _reverse_crossover_grid, _reverse_crossover),
    Quantity("collapse.forward_crossover", _forward_crossover_grid, _forward_crossover),
    Quantity("rewind (kl, win_rate, expected_draws)", _rewind_grid, _rewind),
    Quantity("tradeoff.optimum_win_rate", _optimum_grid, _optimum),
    Quantity("tradeoff.continuous_optimum",
             lambda quick: [{"λ": x} for x in ([1e-10, 1e-8, 1e-4, 0.019, 0.021, 0.5, 1.0, 10.0,
                                                100.0, 1e3, 1e5],
                                               [1e-10, 0.019, 0.021, 1e5])[quick]],
             _continuous),
    Quantity("tradeoff.continuous_optimum_win_rate",
             lambda quick: [{"Δ": x} for x in ([1e-20, 1e-10, 1e-4, 0.1, 1.0, 5.9, 20.0],
                                               [1e-20, 20.0])[quick]],
             _continuous_inverse),
    Quantity("tradeoff.best_of_n_at_kl", _best_of_n_at_kl_grid, _best_of_n_at_kl),
    Quantity("divergence.kl_from_logs", _kl_from_logs_grid, _kl_from_logs),
    Quantity("logspace.log1mexp", lambda quick: [{"|a|": a} for a in _A[quick]], _log1mexp),
    Quantity("logspace.log_mean_exp",
             lambda quick: _product(["tiny_tail", "ties_30"], ["tiny_tail"], quick,
                                    **{"|x|": ([1e-300, 1e-12, 1e-3, 1.0, 10.0, 1e3],
                                               [1e-300, 1e3])}),
             _log_mean_exp),
]
