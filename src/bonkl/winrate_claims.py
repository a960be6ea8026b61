"""Paper A's win-rate claims (sections 5-7) and their margins, per reference and in the limit.

Per reference the margins come from the stage's tables (:mod:`bonkl.winrate`) and from
``(p, r)``; the continuous-limit claims need no reference. See :mod:`bonkl.claims` for
margins, tolerances and the ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bonkl import bestofn, tradeoff
from bonkl.claims import Claim
from bonkl.kl_claims import SATURATION_DRAWS

STATED_WIN_RATE = 0.999  # "about 0.999 win rate at about 5.9 nats with n < 1000"
STATED_WIN_RATE_HALF_UNIT = 0.0005  # "about": within half a unit of the last digit given
STATED_KL = 5.9
STATED_KL_HALF_UNIT = 0.05
STATED_N_BELOW = 1000
CONTINUOUS = "continuous limit"

CLAIMS = {
    c.claim: c
    for c in [
        Claim("A", "win_rate_le_bound", "W_n <= n/(n+1) for every discrete p and n (ties half)",
              "proven", "figures/winrate_vs_n.png", 1e-12),
        Claim("A", "win_rate_gap_bound_outcomes",
              "n/(n+1) - W_n <= (n-1)/2·Σ_y p(y)² (Theorem 5.4 as reported)",
              "reported", "figures/winrate_vs_n.png", 1e-12),
        Claim("A", "win_rate_gap_bound_distinct_rewards",
              "the reported bound (n-1)/2·Σ_y p(y)², on references whose rewards are all distinct",
              "derived", "figures/winrate_vs_n.png", 1e-12),
        Claim("A", "win_rate_gap_bound_tie_groups",
              "n/(n+1) - W_n <= (n-1)/2·Σ_C p(C)² over reward tie groups C "
              "(our tie-aware reading of Theorem 5.4)",
              "derived", "figures/winrate_vs_n.png", 1e-12),
        Claim("A", "win_rate_limit",
              "W_n -> 1 - p(C*)/2 as n -> ∞ (checked at n = 50/p(C*), within 1e-12)",
              "proven", "figures/winrate_vs_n.png", 1e-12),
        Claim("A", "best_of_n_le_optimum",
              "best-of-n's win rate is at most the discrete optimum's (the tilt of p by the "
              "mid-rank reward) at the same KL",
              "derived", "figures/winrate_tradeoff.png", 1e-12),
        Claim("A", "best_of_n_beats_rewind",
              "at the KL of each rewind-and-repeat threshold, best-of-n (interpolated between "
              "consecutive n) wins at least as often (continuous limit: 1 - ε/e against 1 - ε/2)",
              "derived", "figures/winrate_rewind.png", 1e-12),
        Claim("A", "continuous_best_of_n_le_optimum",
              "continuous limit: n/(n+1) <= the optimum's W at KL = log n - (n-1)/n "
              "(best-of-n just below the optimal curve)",
              "derived", "figures/winrate_tradeoff.png", 1e-11),
        Claim("A", "win_rate_0999_continuous",
              "win rate 0.999 at about 5.9 nats with n < 1000, as stated (continuous limit: "
              "n/(n+1) and log n - (n-1)/n)",
              "stated-number", "figures/winrate_tradeoff.png", 0.0),
        Claim("A", "win_rate_0999_references",
              "win rate about 0.999 at about 5.9 nats with n < 1000, on our references: at "
              "n = 999 the exact W_n within 0.0005 of 0.999 and the exact KL within 0.05 of 5.9",
              "stated-number", "figures/winrate_vs_n.png", 0.0),
    ]
}


def _rows(claim: str, cases, margins) -> pd.DataFrame:
    return pd.DataFrame({"claim": claim, "case": list(cases),
                         "margin": np.asarray(margins, dtype=float)})


def _n_cases(n) -> list[str]:
    return [f"n={value:.6g}" for value in n]


def _first_n_reaching(p, r, win: float) -> int | None:
    """Smallest integer n with ``W_n >= win`` (``W_n`` increases to ``1 - p(C*)/2``), or None."""
    if 1.0 - bestofn.top_mass(p, r) / 2.0 <= win:  # W_n < its limit: never reached
        return None
    high = 1
    while bestofn.win_rate(p, r, high) < win:
        high *= 2
    low = max(high // 2, 1)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if bestofn.win_rate(p, r, mid) >= win else (mid, high)
    return high if bestofn.win_rate(p, r, low) < win else low


def stated_number_margins(p, r) -> pd.DataFrame:
    """Margins of the stated "0.999 at about 5.9 nats with n < 1000" for one reference, at
    n = 999: the win rate and the KL against the stated values, each within half a unit of
    the last digit given. No discrete reference reaches 0.999 itself at n = 999, as
    ``W_n < n/(n+1) = 0.999``; the case labels say where ``W_n`` does reach it, if ever.
    """
    n = STATED_N_BELOW - 1
    win, kl = bestofn.win_rate(p, r, n), bestofn.kl(p, r, n)
    reach = _first_n_reaching(p, r, STATED_WIN_RATE)
    where = (f"W reaches 0.999 at n={reach}, KL={bestofn.kl(p, r, reach):.4g}" if reach else
             f"W never reaches 0.999 (limit 1 - p(C*)/2 = "
             f"{1 - bestofn.top_mass(p, r) / 2:.6g})")
    label = f"n={n}: KL={kl:.4g}, W={win:.6g}; {where}"
    return _rows("win_rate_0999_references",
                 [f"{label}: W about {STATED_WIN_RATE}", f"{label}: KL about {STATED_KL}"],
                 [STATED_WIN_RATE_HALF_UNIT - abs(win - STATED_WIN_RATE),
                  STATED_KL_HALF_UNIT - abs(kl - STATED_KL)])


def reference_margins(p, r, by_n: pd.DataFrame, by_threshold: pd.DataFrame) -> pd.DataFrame:
    """Margins ``claim, case, margin`` of the per-reference claims.

    ``by_n`` and ``by_threshold`` are the reference's tables from
    :func:`bonkl.winrate.win_rate_by_n` and :func:`bonkl.winrate.rewind_by_threshold`.
    ``n = 1`` is left out (every bound holds with equality there), and so are the rewind
    thresholds at KL 0 and at the cap, where best-of-n matches rewind-and-repeat exactly.
    """
    p, r = np.asarray(p, dtype=float), np.asarray(r, dtype=float)
    table = by_n[by_n["n"] >= 2]
    cases = _n_cases(table["n"])
    top = bestofn.top_mass(p, r)
    n_saturated = max(1.0, SATURATION_DRAWS / top)
    limit_error = abs(bestofn.win_rate(p, r, n_saturated) - (1.0 - top / 2.0))
    compared = by_threshold[(by_threshold["kl"] > 0) & ~by_threshold["at_cap"].astype(bool)]
    parts = [
        _rows("win_rate_le_bound", cases, table["gap"]),
        _rows("win_rate_gap_bound_outcomes", cases, table["gap_bound_outcomes"] - table["gap"]),
        _rows("win_rate_gap_bound_tie_groups", cases,
              table["gap_bound_tie_groups"] - table["gap"]),
        _rows("win_rate_limit", _n_cases([n_saturated]), [-limit_error]),
        _rows("best_of_n_le_optimum", [f"{c}, KL={k:.4g}" for c, k in zip(cases, table["kl"],
                                                                            strict=True)],
              table["optimum_win_rate"] - table["win_rate"]),
        _rows("best_of_n_beats_rewind",
              [f"threshold={t:.6g}, KL={k:.4g}, n={n:.6g}" for t, k, n in
               zip(compared["threshold"], compared["kl"], compared["bon_n"], strict=True)],
              compared["bon_win_rate"] - compared["win_rate"]),
        stated_number_margins(p, r),
    ]
    support = r[p > 0]
    if np.unique(support).size == support.size:
        parts.append(_rows("win_rate_gap_bound_distinct_rewards", cases,
                           table["gap_bound_outcomes"] - table["gap"]))
    return pd.concat(parts, ignore_index=True)


def continuous_margins(n_grid) -> pd.DataFrame:
    """Margins of the continuous-limit claims (reference ``"continuous limit"``).

    Best-of-n below the optimal curve for every ``n >= 2`` of ``n_grid``; the stated number:
    the smallest n with ``n/(n+1) >= 0.999`` must be below 1000, and the formula's KL there
    within half a unit of 5.9 nats.
    """
    n = np.asarray([m for m in n_grid if m >= 2], dtype=float)
    formula = bestofn.kl_formula(n)
    optimum = np.array([tradeoff.continuous_optimum_win_rate(d) for d in formula])
    n_star = int(np.ceil(STATED_WIN_RATE / (1.0 - STATED_WIN_RATE) - 1e-9))  # n/(n+1) >= w
    kl_star = bestofn.kl_formula(n_star)
    optimum_star = tradeoff.continuous_optimum_win_rate(kl_star)
    label = (f"n={n_star}: KL={kl_star:.6g}, n/(n+1)={n_star / (n_star + 1):.6g}, "
             f"optimum W at that KL={optimum_star:.10g}")
    return pd.concat([
        _rows("continuous_best_of_n_le_optimum", _n_cases(n), optimum - n / (n + 1.0)),
        _rows("win_rate_0999_continuous", [f"{label}: n < {STATED_N_BELOW}",
                                           f"{label}: KL about {STATED_KL}"],
              [STATED_N_BELOW - 1 - n_star, STATED_KL_HALF_UNIT - abs(kl_star - STATED_KL)]),
    ], ignore_index=True).assign(reference=CONTINUOUS)
