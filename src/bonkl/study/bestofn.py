"""Per-reference best-of-n KL summaries over an n grid (stage ``bestofn``).

One row per ``n``: the exact KL, the formula, their gap, the bounds on the gap and on
the KL (paper A, sections 3-4), the exact expected estimator and, optionally, its
Monte-Carlo estimate with a 95% interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
