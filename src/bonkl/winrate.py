"""Per-reference win-rate study (stage ``winrate``; paper A, sections 5-7).

Tables of one reference: best-of-n's exact and sampled win rates over an n grid with the
bounds (:func:`win_rate_by_n`), rewind-and-repeat at the reward quantiles
(:func:`rewind_by_threshold`), and every win-rate/KL curve in one long table
(:func:`tradeoff_curves`). Win rates count ties as half.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from bonkl import bestofn, rewind, tradeoff
from bonkl.groups import as_reference, reward_groups


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
    half = float(stats.norm.ppf(0.5 + level / 2) * scores.std(ddof=1) / np.sqrt(pairs))
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


def rewind_by_threshold(p, r, count: int, pairs: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rewind-and-repeat at the thresholds of :func:`bonkl.rewind.quantile_thresholds`.

    Columns: ``threshold``, ``accept_mass`` (``p(r >= τ)``), ``kl`` (``log 1/p(r >= τ)``),
    ``expected_draws``, ``win_rate`` (exact), the sampled win rate and its interval,
    ``optimum_win_rate`` (the discrete optimum at the same KL), and best-of-n at the same
    KL (:func:`bonkl.tradeoff.best_of_n_at_kl`): ``bon_n`` and ``bon_win_rate``. At the top
    threshold (``at_cap``: KL = ``log 1/p(C*)``) best-of-n gets there only as n -> ∞:
    ``bon_win_rate`` is its limit ``1 - p(C*)/2`` and ``bon_n`` is 0.
    """
    p, r = as_reference(p, r)
    thresholds = rewind.quantile_thresholds(p, r, count)
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
    ``continuous_optimum`` (closed form at ``λ = 1/β``).
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
    return pd.concat([pd.DataFrame({"curve": name, "parameter": np.asarray(x, dtype=float),
                                    "kl": np.asarray(k, dtype=float),
                                    "win_rate": np.asarray(w, dtype=float)})
                      for name, x, k, w in parts], ignore_index=True)


TABLE_COLUMNS = ["n", "kl", "kl_formula", "win_rate", "win_rate_bound", "optimum_win_rate",
                 "shortfall"]


def summary_table(references: dict, n_list) -> pd.DataFrame:
    """The stage's table: per reference ``name -> (p, r)`` and ``n``, :data:`TABLE_COLUMNS`."""
    return pd.concat([win_rate_by_n(p, r, n_list)[TABLE_COLUMNS].assign(reference=name)
                      for name, (p, r) in references.items()], ignore_index=True)[
        ["reference", *TABLE_COLUMNS]]


TABLE_NOTE = """
Per reference and n: the exact KL(best-of-n ‖ p) in nats, the usual formula log n − (n−1)/n,
the exact win rate W_n against a fresh reference draw (ties count half), the bound n/(n+1),
the largest win rate any policy reaches at the same (exact) KL (the tilt of p by the
mid-rank reward), and the shortfall of best-of-n from that optimum.
"""
