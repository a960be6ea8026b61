"""Stage ``winrate`` (paper A, sections 5-7): per-reference win-rate tables and their claims.

Tables of one reference: best-of-n's exact and sampled win rates over an n grid with the
bounds (:func:`win_rate_by_n`), rewind-and-repeat at the reward quantiles
(:func:`rewind_by_threshold`), and every win-rate/KL curve in one long table
(:func:`tradeoff_curves`). Win rates count ties as half.

The stage's claims (:data:`CLAIMS`) have margins per reference, from the tables above and
``(p, r)`` (:func:`reference_margins`), and in the continuous limit, which needs no
reference (:func:`continuous_margins`). See :mod:`bonkl.study.ledger` for margins,
tolerances and the ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from bonkl import bestofn, rewind, tradeoff
from bonkl.groups import as_reference, reward_groups
from bonkl.study.claims import SATURATION_DRAWS
from bonkl.study.ledger import Claim


def win_rate_gap_bound(masses, n):
    """``(n-1)/2 · Σ masses²``: the reported bound on ``n/(n+1) - W_n`` (paper A, Thm 5.4).

    With the outcome masses ``p(y)`` it is the bound as reported; with the tie-group masses
    ``p(C)`` it is our tie-aware reading (best-of-n sees only the groups).
    """
    masses = np.asarray(masses, dtype=float)
    return (np.asarray(n, dtype=float) - 1.0) / 2.0 * np.sum(masses * masses)


def sampled_win_rate(p, r, draw, pairs: int, rng: np.random.Generator, level: float = 0.95):
    """``(mean, low, high)``: win rate of a policy from ``pairs`` (policy draw, reference draw).

    ``draw(size, rng)`` returns policy draws (outcome indices); each is paired with a fresh
    reference draw ``Z ~ p`` and scores 1 (higher reward), 1/2 (tie) or 0. The interval is
    the normal one at ``level`` with the sample variance of the scores, clipped to [0, 1].
    """
    p, r = as_reference(p, r)
    if pairs < 2:
        raise ValueError(f"pairs must be >= 2, got {pairs!r}")
    ours = r[draw(pairs, rng)]
    theirs = r[rng.choice(p.size, size=pairs, p=p)]
    scores = (ours > theirs) + 0.5 * (ours == theirs)
    mean = float(scores.mean())
    half = float(special.ndtri(0.5 + level / 2) * scores.std(ddof=1) / np.sqrt(pairs))
    return mean, max(mean - half, 0.0), min(mean + half, 1.0)


def win_rate_by_n(p, r, n_grid) -> pd.DataFrame:
    """Exact best-of-n win rates, bounds and the optimum at the same KL, per ``n``.

    Columns: ``n``, ``kl`` (exact), ``kl_formula``, ``win_rate`` (exact), ``win_rate_bound``
    (``n/(n+1)``), ``gap`` (bound minus win rate), ``gap_bound_outcomes``
    (``(n-1)/2 Σ_y p²``, reported), ``gap_bound_tie_groups`` (``(n-1)/2 Σ_C p(C)²``),
    ``win_rate_limit`` (``1 - p(C*)/2``), ``optimum_win_rate`` (the discrete optimum at the
    exact KL), ``shortfall`` (optimum minus best-of-n), ``continuous_optimum_win_rate``
    (the continuous optimum at the formula's KL, to set against ``n/(n+1)``).
    """
    p, r = as_reference(p, r)
    n = np.asarray(n_grid, dtype=float)
    kl = bestofn.kl(p, r, n)
    formula = bestofn.kl_formula(n)
    win = bestofn.win_rate(p, r, n)
    bound = n / (n + 1.0)
    optimum = tradeoff.optimum_win_rate(p, r, kl)
    return pd.DataFrame({
        "n": n,
        "kl": kl,
        "kl_formula": formula,
        "win_rate": win,
        "win_rate_bound": bound,
        "gap": bound - win,
        "gap_bound_outcomes": win_rate_gap_bound(p, n),
        "gap_bound_tie_groups": win_rate_gap_bound(reward_groups(p, r).mass, n),
        "win_rate_limit": np.full(n.size, 1.0 - bestofn.top_mass(p, r) / 2.0),
        "optimum_win_rate": optimum,
        "shortfall": optimum - win,
        "continuous_optimum_win_rate": [tradeoff.continuous_optimum_win_rate(d) for d in formula],
    })


def sampled_by_n(p, r, n_grid, pairs: int, rng: np.random.Generator) -> pd.DataFrame:
    """Sampled best-of-n win rates per ``n``: ``sampled_win_rate``, ``sampled_low``,
    ``sampled_high`` (95% interval) and ``pairs``, best-of-n draws by :func:`bonkl.bestofn.sample`.
    """
    rows = [sampled_win_rate(p, r, lambda size, g, n=n: bestofn.sample(p, r, n, size, g),
                             pairs, rng) for n in n_grid]
    return _sampled_columns(rows, pairs)


def _sampled_columns(rows, pairs: int) -> pd.DataFrame:
    mean, low, high = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    return pd.DataFrame({"sampled_win_rate": mean, "sampled_low": low, "sampled_high": high,
                         "pairs": np.full(mean.size, int(pairs))})


def reward_thresholds(p, r, count: int) -> np.ndarray:
    """Rewind-and-repeat's thresholds: every distinct reward when there are at most ``count``,
    else the ``count`` quantile thresholds of :func:`bonkl.rewind.quantile_thresholds`.

    With few distinct rewards, log-spaced tail levels can skip every group between the bottom
    and a heavy group just below the top (a low-entropy prompt's likeliest answer): taking
    every reward keeps each attainable threshold.
    """
    groups = reward_groups(p, r)
    if groups.mass.size <= count:
        return np.sort(r[groups.order[groups.starts[:-1]]])
    return rewind.quantile_thresholds(p, r, count)


def rewind_by_threshold(p, r, count: int, pairs: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rewind-and-repeat at the thresholds of :func:`reward_thresholds`.

    Columns: ``threshold``, ``accept_mass`` (``p(r >= τ)``), ``kl`` (``log 1/p(r >= τ)``),
    ``expected_draws``, ``win_rate`` (exact), the sampled win rate and its interval,
    ``optimum_win_rate`` (the discrete optimum at the same KL), and best-of-n at the same
    KL (:func:`bonkl.tradeoff.best_of_n_at_kl`): ``bon_n`` and ``bon_win_rate``. At the top
    threshold (``at_cap``: KL = ``log 1/p(C*)``) best-of-n gets there only as n -> ∞:
    ``bon_win_rate`` is its limit ``1 - p(C*)/2`` and ``bon_n`` is 0.
    """
    p, r = as_reference(p, r)
    thresholds = reward_thresholds(p, r, count)
    kl = np.array([rewind.kl(p, r, tau) for tau in thresholds])
    at_cap = thresholds == thresholds.max()
    bon = [tradeoff.best_of_n_at_kl(p, r, d) if not cap else
           (0.0, 1.0 - bestofn.top_mass(p, r) / 2.0) for d, cap in zip(kl, at_cap, strict=True)]
    sampled = [sampled_win_rate(p, r, lambda size, g, t=tau: rewind.sample(p, r, t, size, g),
                                pairs, rng) for tau in thresholds]
    table = pd.DataFrame({
        "threshold": thresholds,
        "accept_mass": [rewind.accept_mass(p, r, tau) for tau in thresholds],
        "kl": kl,
        "expected_draws": [rewind.expected_draws(p, r, tau) for tau in thresholds],
        "win_rate": [rewind.win_rate(p, r, tau) for tau in thresholds],
        "optimum_win_rate": tradeoff.optimum_win_rate(p, r, kl),
        "bon_n": [n for n, _ in bon],
        "bon_win_rate": [w for _, w in bon],
        "at_cap": at_cap,
    })
    return pd.concat([table, _sampled_columns(sampled, pairs)], axis=1)


def tradeoff_curves(by_n: pd.DataFrame, by_threshold: pd.DataFrame, p, r, betas) -> pd.DataFrame:
    """Every win-rate/KL curve of one reference in one long table.

    Columns ``curve``, ``parameter``, ``kl``, ``win_rate``; curves: ``best_of_n`` (exact, at
    each ``n``), ``best_of_n_formula`` (the formula's KL and ``n/(n+1)``), ``rewind`` (at
    each threshold), ``optimum`` (the mid-rank tilt at each ``β`` of ``betas``) and
    ``continuous_optimum`` (closed form at ``λ = 1/β``); and ``optimum_win_rate``, the
    discrete optimum's win rate at each row's KL (:func:`bonkl.tradeoff.optimum_win_rate`).
    """
    betas = np.asarray(betas, dtype=float)
    opt_kl, opt_win = tradeoff.optimum_curve(p, r, betas)
    cont_kl, cont_win = tradeoff.continuous_optimum(1.0 / betas)
    parts = [
        ("best_of_n", by_n["n"], by_n["kl"], by_n["win_rate"]),
        ("best_of_n_formula", by_n["n"], by_n["kl_formula"], by_n["win_rate_bound"]),
        ("rewind", by_threshold["threshold"], by_threshold["kl"], by_threshold["win_rate"]),
        ("optimum", betas, opt_kl, opt_win),
        ("continuous_optimum", betas, cont_kl, cont_win),
    ]
    curves = pd.concat([pd.DataFrame({"curve": name, "parameter": np.asarray(x, dtype=float),
                                      "kl": np.asarray(k, dtype=float),
                                      "win_rate": np.asarray(w, dtype=float)})
                        for name, x, k, w in parts], ignore_index=True)
    return curves.assign(optimum_win_rate=tradeoff.optimum_win_rate(p, r, curves["kl"]))


#: Columns of the stage's summary table (figures/winrate_table).
TABLE_COLUMNS = ["n", "kl", "kl_formula", "win_rate", "win_rate_bound", "optimum_win_rate",
                 "shortfall"]


def summary_table(references: dict, n_list) -> pd.DataFrame:
    """The stage's table: per reference ``name -> (p, r)`` and ``n``, :data:`TABLE_COLUMNS`."""
    return pd.concat([win_rate_by_n(p, r, n_list)[TABLE_COLUMNS].assign(reference=name)
                      for name, (p, r) in references.items()], ignore_index=True)[
        ["reference", *TABLE_COLUMNS]]


def equal_kl_table(references: dict, n_grid) -> pd.DataFrame:
    """Per reference ``name -> (p, r)``: the worst margin of our reading (ii) of the paper's
    conclusion over ``n_grid`` (n >= 2), ``W_n − n'/(n'+1)`` at equal KL, with where it is:
    columns ``reference, cases, worst_margin, n, kl, win_rate, continuous_win_rate,
    win_rate_limit`` (the last ``1 − p(C*)/2``, the cap of a discrete reference)."""
    rows = []
    for name, (p, r) in references.items():
        table = win_rate_by_n(p, r, [n for n in n_grid if n >= 2])
        continuous = reported_win_rate(table["kl"])
        margin = table["win_rate"].to_numpy() - continuous
        worst = int(np.argmin(margin))
        rows.append((name, len(table), float(margin[worst]), float(table["n"].iloc[worst]),
                     float(table["kl"].iloc[worst]), float(table["win_rate"].iloc[worst]),
                     float(continuous[worst]), float(table["win_rate_limit"].iloc[0])))
    return pd.DataFrame(rows, columns=["reference", "cases", "worst_margin", "n", "kl",
                                       "win_rate", "continuous_win_rate", "win_rate_limit"])


EQUAL_KL_NOTE = """
Paper A's conclusion in our reading (ii), ours: at equal KL, best-of-n's exact win rate W_n
against the continuous best-of-n curve's, n'/(n'+1) with log n' − (n'−1)/n' = the exact KL.
Per reference, over the n grid of the winrate stage: the worst margin W_n − n'/(n'+1)
(negative: the reading fails there), the n, KL and both win rates where it is found, and the
cap 1 − p(C*)/2 of the discrete reference's win rate. A failure is a finding about our
reading, not about the paper; the paper's own reading (i) has its own ledger row.
"""


TABLE_NOTE = """
Per reference and n: the exact KL(best-of-n ‖ p) in nats, the usual formula log n − (n−1)/n,
the exact win rate W_n against a fresh reference draw (ties count half), the bound n/(n+1),
the largest win rate any policy reaches at the same (exact) KL (the tilt of p by the
mid-rank reward), and the shortfall of best-of-n from that optimum.
"""


# ------------------------------------------------------------------ the stage's claims

CONTINUOUS = "continuous limit"
OURS_0999_N = 999  # n/(n+1) = 0.999 at n = 999 (ours)
#: Acceptance masses ε of the continuous rewind comparison (the e/2 limit).
REWIND_EPSILONS = np.logspace(-2, -10, 9)  # acceptance masses for the e/2 limit

#: The stage's ledger claims, by name.
CLAIMS = {
    c.claim: c
    for c in [
        Claim(paper="A", claim="win_rate_le_bound", status="reported",
              source="Thm 5.3 (secondary)", evidence="figures/winrate_vs_n.png",
              tolerance=1e-12,
              statement="W_n <= n/(n+1) for every discrete p and n (Theorem 5.3; on references "
              "with ties, with ties counted half, which is ours)"),
        Claim(paper="A", claim="win_rate_gap_bound_distinct_rewards", status="reported",
              source="Thm 5.4 (secondary)", evidence="figures/winrate_vs_n.png",
              tolerance=1e-12,
              statement="n/(n+1) - W_n <= (n-1)/2·Σ_y p(y)² (Theorem 5.4, under the paper's "
              "Assumption 2.1: distinct rewards), checked on references whose rewards are all "
              "distinct"),
        Claim(paper="A", claim="win_rate_gap_bound_outcomes_with_ties", status="ours",
              source="ours", evidence="figures/winrate_vs_n.png", tolerance=1e-12,
              statement="Theorem 5.4's outcome form (n-1)/2·Σ_y p(y)² applied, with our tie "
              "rule, to references with tied rewards: outside the paper, which assumes "
              "distinct rewards"),
        Claim(paper="A", claim="win_rate_gap_bound_tie_groups", status="ours", source="ours",
              evidence="figures/winrate_vs_n.png", tolerance=1e-12,
              statement="n/(n+1) - W_n <= (n-1)/2·Σ_C p(C)² over reward tie groups C (our "
              "tie-aware form of Theorem 5.4), on every reference"),
        Claim(paper="A", claim="win_rate_limit", status="ours", source="ours",
              evidence="figures/winrate_vs_n.png", tolerance=1e-12,
              statement="W_n -> 1 - p(C*)/2 as n -> ∞ (checked at n = 50/p(C*), within 1e-12)"),
        Claim(paper="A", claim="best_of_n_le_optimum", status="ours", source="ours",
              evidence="figures/winrate_tradeoff.png", tolerance=1e-12,
              statement="best-of-n's win rate is at most the discrete optimum's (the tilt of p "
              "by the mid-rank reward) at the same KL"),
        Claim(paper="A", claim="true_tradeoff_paper_reading", status="reported",
              source="secondary", evidence="figures/winrate_tradeoff.png",
              tolerance=1e-12,
              statement="the paper's conclusion, in its own reading (i): since the formula "
              "over-states the KL, best-of-n's true trade-off is better than the one reported "
              "with it; at the same n the true KL is below the formula's (Thm 3.1) while the "
              "win rate stays within Thm 5.4's bound (n-1)/2·Σ_y p(y)² of n/(n+1). Checked "
              "per reference at every n of the grid where that bound is small, at most half "
              "the formula's loss 1/(n+1) (so W_n loses at most 1.5 times what the formula "
              "says), on references with distinct rewards (the paper's Assumption 2.1); "
              "margin the smaller of the KL's slack and the win rate's slack to the bound"),
        Claim(paper="A", claim="true_tradeoff_equal_kl", status="ours", source="ours",
              evidence="figures/winrate_tradeoff.png", tolerance=1e-12,
              statement="our stronger reading (ii) of the paper's conclusion: at equal KL, "
              "best-of-n's win rate is at least the continuous best-of-n curve's, W_n >= "
              "n'/(n'+1) with log n' - (n'-1)/n' = the exact KL, checked per reference at "
              "every n of the grid; margin W_n − n'/(n'+1). It can fail on discrete "
              "references near saturation, where W_n is capped at 1 - p(C*)/2: a failure is "
              "a finding about our reading, not a failure of the paper. On uniform "
              "references the margins are tiny (figures/winrate_equal_kl.md gives each "
              "reference's worst margin); the worst case is named in worst_case"),
        Claim(paper="A", claim="rewind_comparison", status="reported", source="secondary",
              evidence="figures/winrate_rewind.png", tolerance=1e-12,
              statement="the paper's comparison: in the continuous limit best-of-n has the "
              "better win-rate/KL trade-off than rewind-and-repeat; checked as: at equal KL "
              "log(1/ε), rewind's loss ε/2 exceeds best-of-n's loss 1/(n+1), margin "
              "ε/2 − 1/(n+1) over ε"),
        Claim(paper="A", claim="rewind_loss_ratio_e_over_2", status="derived", source="ours",
              evidence="figures/winrate_rewind.png", tolerance=1.0,
              statement="the quantification of the comparison (the digest's continuous-limit "
              "derivation, ours to check): at equal KL log(1/ε), rewind's loss ε/2 over "
              "best-of-n's loss 1/(n+1) tends to e/2 as ε -> 0; margin minus the distance of "
              "the ratio from e/2, over ε, which stays bounded if the error is O(ε)"),
        Claim(paper="A", claim="best_of_n_beats_rewind", status="ours", source="ours",
              evidence="figures/winrate_rewind.png", tolerance=1e-12,
              statement="our discrete extension of the paper's continuous comparison: at the "
              "KL of each rewind-and-repeat threshold, best-of-n (interpolated between "
              "consecutive n) wins at least as often on every discrete reference; a failure "
              "is a finding about the extension, not about the paper"),
        Claim(paper="A", claim="continuous_best_of_n_le_optimum", status="derived",
              source="ours", evidence="figures/winrate_tradeoff.png", tolerance=1e-11,
              statement="continuous limit: n/(n+1) <= the optimum's W at KL = log n - (n-1)/n "
              "(best-of-n just below the optimal curve): a continuous-limit identity, which "
              "the digest's label rules make derived"),
        Claim(paper="A", claim="win_rate_0999_continuous", status="ours", source="ours",
              evidence="figures/winrate_tradeoff.png", tolerance=1e-11,
              statement="ours, not a number the paper prints (its abstract says only \"very "
              "good tradeoffs are achievable with n < 1000\"): in the continuous limit "
              f"n = {OURS_0999_N} gives n/(n+1) = 0.999 at log n - (n-1)/n = "
              f"{float(bestofn.kl_formula(OURS_0999_N)):.5g} nats, just below the optimum's W "
              "at that KL; margin the optimum's W minus 0.999"),
        Claim(paper="A", claim="conjecture_7_2_tradeoff_upper_bound", status="reported",
              source="Conjecture 7.2 (secondary)", evidence="none (not checked)",
              tolerance=0.0, checked=False,
              statement="Conjecture 7.2: an upper bound on the win-rate/KL trade-off, checked "
              "numerically in the paper. Its statement was not recovered (the secondary "
              "transcriptions name it without its formula), so it is not checked here: this "
              "row records the claim, and neither holds nor fails"),
    ]
}


def _rows(claim: str, cases, margins) -> pd.DataFrame:
    return pd.DataFrame({"claim": claim, "case": list(cases),
                         "margin": np.asarray(margins, dtype=float)})


def _n_cases(n) -> list[str]:
    return [f"n={value:.6g}" for value in n]


def reference_margins(p, r, by_n: pd.DataFrame, by_threshold: pd.DataFrame) -> pd.DataFrame:
    """Margins ``claim, case, margin`` of the per-reference claims.

    ``by_n`` and ``by_threshold`` are the reference's tables from
    :func:`bonkl.study.winrate.win_rate_by_n` and :func:`bonkl.study.winrate.rewind_by_threshold`.
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
        _rows("true_tradeoff_equal_kl",
              [f"{c}, KL={k:.4g}" for c, k in zip(cases, table["kl"], strict=True)],
              table["win_rate"] - reported_win_rate(table["kl"])),
    ]
    support = r[p > 0]
    distinct = np.unique(support).size == support.size
    if distinct:
        small = table[table["gap_bound_outcomes"] <= 0.5 / (table["n"] + 1.0)]
        parts.append(_rows("true_tradeoff_paper_reading", _n_cases(small["n"]),
                           np.minimum(small["kl_formula"] - small["kl"],
                                      small["gap_bound_outcomes"] - small["gap"])))
    parts.append(_rows("win_rate_gap_bound_distinct_rewards" if distinct else
                       "win_rate_gap_bound_outcomes_with_ties", cases,
                       table["gap_bound_outcomes"] - table["gap"]))
    return pd.concat(parts, ignore_index=True)


def reported_win_rate(kl) -> np.ndarray:
    """``n'/(n'+1)`` with ``log n' - (n'-1)/n' = KL``: the win rate the formula reports at KL."""
    n = np.array([tradeoff.formula_n_at_kl(d) for d in np.asarray(kl, dtype=float)])
    return n / (n + 1.0)


def rewind_loss_ratio(eps) -> float:
    """``(ε/2)/(1/(n+1))`` at ``log n - (n-1)/n = log(1/ε)``: the continuous-limit losses of
    rewind-and-repeat and best-of-n at equal KL (paper A); tends to e/2."""
    n = tradeoff.formula_n_at_kl(-np.log(eps))
    return eps / 2.0 * (n + 1.0)


def continuous_margins(n_grid) -> pd.DataFrame:
    """Margins of the continuous-limit claims (reference ``"continuous limit"``): best-of-n
    below the optimal curve for every ``n >= 2`` of ``n_grid``; n = 999's pair (ours); the
    comparison with rewind-and-repeat, ``(ε/2 − 1/(n+1))/ε = (1 − 1/ratio)/2``, and the loss
    ratio's limit, ``-|ratio - e/2|/ε``, at :data:`REWIND_EPSILONS`.
    """
    n = np.asarray([m for m in n_grid if m >= 2], dtype=float)
    formula = bestofn.kl_formula(n)
    optimum = np.array([tradeoff.continuous_optimum_win_rate(d) for d in formula])
    kl_star = float(bestofn.kl_formula(OURS_0999_N))
    win_star = OURS_0999_N / (OURS_0999_N + 1.0)
    ratios = np.array([rewind_loss_ratio(e) for e in REWIND_EPSILONS])
    return pd.concat([
        _rows("continuous_best_of_n_le_optimum", _n_cases(n), optimum - n / (n + 1.0)),
        _rows("win_rate_0999_continuous",
              [f"n={OURS_0999_N}: KL={kl_star:.6g}, n/(n+1)={win_star:.6g}"],
              [tradeoff.continuous_optimum_win_rate(kl_star) - win_star]),
        _rows("rewind_comparison",
              [f"eps={e:.1e}, ratio={q:.12g}" for e, q in zip(REWIND_EPSILONS, ratios,
                                                             strict=True)],
              (ratios - 1.0) / ratios / 2.0),
        _rows("rewind_loss_ratio_e_over_2",
              [f"eps={e:.1e}, ratio={q:.12g}" for e, q in zip(REWIND_EPSILONS, ratios,
                                                             strict=True)],
              -np.abs(ratios - np.e / 2.0) / REWIND_EPSILONS),
    ], ignore_index=True).assign(reference=CONTINUOUS)
