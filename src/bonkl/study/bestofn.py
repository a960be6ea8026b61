"""Per-reference best-of-n KL summaries over an n grid (stage ``bestofn``).

One row per ``n``: the exact KL, the formula, their gap, the bounds on the gap and on
the KL (paper A, sections 3-4), the exact expected estimator and, optionally, its
Monte-Carlo estimate with a 95% interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from bonkl import bestofn


def log_integer_grid(maximum: float, points: int) -> list[int]:
    """Distinct integers ``round(10^t)`` for ``t`` evenly spaced in ``[0, log10(maximum)]``."""
    grid = np.unique(np.rint(np.logspace(0.0, np.log10(maximum), int(points))))
    return [int(n) for n in grid]


def kl_summary(p, r, n_grid) -> pd.DataFrame:
    """Exact best-of-n KL quantities of ``(p, r)`` for every ``n`` of ``n_grid``.

    Columns: ``n``, ``kl`` (exact), ``kl_formula`` (``log n - (n-1)/n``), ``gap``
    (formula minus exact), ``gap_bound_outcomes`` (``2n(n-1)Σ_y p²``, reported),
    ``gap_bound_tie_groups`` (``2n(n-1)Σ_C p(C)²``), ``saturation_bound``
    (``D̂_n(p(C*))``), ``saturation_limit`` (``log 1/p(C*)``), ``expected_estimator``.
    """
    n = np.asarray(n_grid, dtype=float)
    exact = bestofn.kl(p, r, n)
    formula = bestofn.kl_formula(n)
    top = bestofn.top_mass(p, r)
    return pd.DataFrame(
        {
            "n": n,
            "kl": exact,
            "kl_formula": formula,
            "gap": formula - exact,
            "gap_bound_outcomes": bestofn.gap_bound_reported(p, n),
            "gap_bound_tie_groups": bestofn.gap_bound_tie_groups(p, r, n),
            "saturation_bound": bestofn.kl_estimator(top, n),
            "saturation_limit": np.full(n.size, -np.log(top)),
            "expected_estimator": bestofn.expected_kl_estimator(p, r, n),
        }
    )


def monte_carlo_columns(p, r, n_grid, draws: int, rng: np.random.Generator) -> pd.DataFrame:
    """Monte-Carlo estimator per ``n``: ``mc_estimator``, ``mc_low``, ``mc_high``, ``mc_draws``."""
    rows = [bestofn.estimator_monte_carlo(p, r, n, draws, rng) for n in n_grid]
    mean, low, high = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    return pd.DataFrame({"mc_estimator": mean, "mc_low": low, "mc_high": high,
                         "mc_draws": np.full(len(rows), int(draws))})


def estimator_variance(p, r, n_grid) -> np.ndarray:
    """``σ²_n = Var_{y~π_n} D̂_n(p(y))``, one draw's variance of the estimator, per ``n``
    (exact, from the best-of-n pmf; centred before squaring)."""
    p, r = np.asarray(p, dtype=float), np.asarray(r, dtype=float)
    support = p > 0
    n = np.asarray(n_grid, dtype=float)
    weights = np.atleast_2d(bestofn.pmf(p, r, n))[:, support]
    values = bestofn.kl_estimator(p[support][None, :], n[:, None])
    mean = np.sum(weights * values, axis=1, keepdims=True)
    return np.sum(weights * (values - mean) ** 2, axis=1)


def sample_size_columns(p, r, n_grid, accuracy: float, confidence: float, replications: int,
                        rng: np.random.Generator) -> pd.DataFrame:
    """Draws the estimator needs for ``accuracy`` nats with probability ``confidence``, per n.

    ``estimator_sd`` is one draw's exact standard deviation σ_n
    (:func:`estimator_variance`); ``draws_needed`` is the normal approximation
    ``M = ⌈(z σ_n / accuracy)²⌉`` (at least 1), ``z`` the two-sided ``confidence`` quantile.
    The Monte Carlo check: ``replications`` estimates of ``M`` draws each;
    ``coverage`` is the share within ``accuracy`` of the exact expectation, with its
    Clopper–Pearson interval (``coverage_low``, ``coverage_high``) at ``confidence``, set
    against ``coverage_target`` (= ``confidence``); ``accuracy`` repeats the accuracy.
    """
    p, r = np.asarray(p, dtype=float), np.asarray(r, dtype=float)
    n = np.asarray(n_grid, dtype=float)
    sd = np.sqrt(estimator_variance(p, r, n))
    expected = bestofn.expected_kl_estimator(p, r, n)
    z = float(special.ndtri(0.5 + confidence / 2.0))
    needed = np.maximum(1, np.ceil((z * sd / accuracy) ** 2)).astype(int)
    from scipy.stats import binomtest  # lazily: scipy.stats costs a second of start-up per job

    rows = []
    for size, value, mu in zip(needed, n, expected, strict=True):
        draws = bestofn.sample(p, r, value, int(size) * replications, rng)
        means = bestofn.kl_estimator(p[draws], value).reshape(replications, int(size)).mean(axis=1)
        hits = int(np.sum(np.abs(means - mu) <= accuracy))
        interval = binomtest(hits, replications).proportion_ci(confidence_level=confidence)
        rows.append((hits / replications, interval.low, interval.high))
    low_high = np.array(rows, dtype=float).reshape(-1, 3)
    return pd.DataFrame({"estimator_sd": sd, "draws_needed": needed,
                         "coverage": low_high[:, 0], "coverage_low": low_high[:, 1],
                         "coverage_high": low_high[:, 2],
                         "coverage_replications": np.full(n.size, int(replications)),
                         "coverage_target": np.full(n.size, float(confidence)),
                         "accuracy": np.full(n.size, float(accuracy))})
