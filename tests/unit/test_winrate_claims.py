"""Paper A's win-rate claims: margins on hand-checkable references and the continuous limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bonkl.plumbing.seeding import generator
from bonkl.references import build_reference
from bonkl.study import winrate
from bonkl.study.ledger import summarize
from bonkl.study.winrate import CLAIMS, continuous_margins, reference_margins


def margins_of(p, r, n_grid=(1, 2, 10, 100, 1000)):
    rng = generator(0, "winrate claims test")
    by_n = winrate.win_rate_by_n(p, r, n_grid)
    by_threshold = winrate.rewind_by_threshold(p, r, 12, 50, rng)
    return reference_margins(p, r, by_n, by_threshold).assign(reference="test")


def worst(margins, claim):
    return margins.loc[margins["claim"] == claim, "margin"].min()


def test_fair_binary():
    """Every theorem holds; no threshold between the two outcomes. The true trade-off is
    worse than the reported one: at n = 2, W = 5/8 at KL = log 2 − h(1/4), where the formula
    curve reports n'/(n'+1) with log n' − (n'−1)/n' = that KL (solved here by bisection)."""
    margins = margins_of(np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    summary = summarize(margins, CLAIMS.values()).set_index("claim")
    for claim in ["win_rate_le_bound", "win_rate_limit", "best_of_n_le_optimum",
                  "win_rate_gap_bound_distinct_rewards"]:
        assert summary.loc[claim, "holds"], claim
    assert summary.loc["best_of_n_beats_rewind", "cases"] == 0
    assert summary.loc["win_rate_gap_bound_outcomes_with_ties", "cases"] == 0
    kl = math.log(2) - (-0.25 * math.log(0.25) - 0.75 * math.log(0.75))
    low, high = 1.0, 10.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if math.log(mid) - (mid - 1) / mid < kl else (low, mid)
    better = margins[(margins["claim"] == "true_tradeoff_better_than_reported")
                     & margins["case"].str.startswith("n=2,")]
    assert better["margin"].iloc[0] == pytest.approx(5 / 8 - low / (low + 1), rel=1e-10)
    # n=2: n/(n+1) − W = 2/3 − 5/8 = 1/24 against the bound (1/2)·(1/2) = 1/4
    le_bound = margins[(margins["claim"] == "win_rate_le_bound") & (margins["case"] == "n=2")]
    assert le_bound["margin"].iloc[0] == pytest.approx(1 / 24, rel=1e-14)


def test_distinct_reward_row_only_without_ties():
    """Theorem 5.4's row only on distinct rewards; with ties the outcome form is our row."""
    margins = margins_of(np.array([0.2, 0.3, 0.1, 0.4]), np.array([1.0, 1.0, 0.0, 2.0]))
    assert "win_rate_gap_bound_distinct_rewards" not in set(margins["claim"])
    assert "win_rate_gap_bound_outcomes_with_ties" in set(margins["claim"])


def test_uniform_reference_trade_off_is_worse_than_reported_past_n_2():
    """A finding kept as a regression: uniform over 10^4, W_n sits above the reported curve
    at n = 2 and below it (by ~4e-7) at n = 1000, although the exact KL is below the formula."""
    p = np.full(10**4, 1e-4)
    margins = margins_of(p, np.arange(10**4, dtype=float))
    rows = margins[margins["claim"] == "true_tradeoff_better_than_reported"]
    assert rows["margin"].iloc[0] > 0 > rows["margin"].iloc[-1]


def test_rewind_beats_best_of_n_on_a_staircase():
    """A finding kept as a regression: with two small top atoms (1e-2, 1e-3) above a 0.1 atom,
    rewinding to the top two atoms wins more often than best-of-n at the same KL."""
    spec = {"name": "s", "family": "spike", "bulk": 100, "masses": [1e-1, 1e-2, 1e-3]}
    table = build_reference(spec, seed=0)
    margins = margins_of(table["prob"].to_numpy(), table["reward"].to_numpy())
    assert worst(margins, "best_of_n_beats_rewind") < -1e-4


def test_continuous_limit_claims():
    """n = 999: log 999 − 998/999 = 5.9078 nats in the case label; best-of-n below the optimum."""
    margins = continuous_margins([1, 2, 10, 999, 10**5])
    stated = margins[margins["claim"] == "win_rate_0999_continuous"]
    assert f"KL={math.log(999) - 998 / 999:.6g}" in stated["case"].iloc[0]
    assert 0 < stated["margin"].iloc[0] < 1e-8
    below = margins[margins["claim"] == "continuous_best_of_n_le_optimum"]
    assert len(below) == 4 and (below["margin"] >= -1e-11).all()
    assert set(margins["reference"]) == {"continuous limit"}


def test_rewind_loss_ratio_against_mpmath():
    """ε = 1e-6: solve log n − (n−1)/n = log(1/ε) in mpmath; (ε/2)(n+1) → e/2 as ε → 0."""
    import mpmath as mp

    for eps in (1e-3, 1e-6):
        with mp.workdps(40):
            n = mp.findroot(lambda x, e=eps: mp.log(x) - (x - 1) / x + mp.log(e), mp.e / eps)
            exact = float(mp.mpf(eps) / 2 * (n + 1))
        assert winrate.rewind_loss_ratio(eps) == pytest.approx(exact, rel=1e-12)
    assert abs(winrate.rewind_loss_ratio(1e-9) - math.e / 2) < 1e-8
    assert abs(winrate.rewind_loss_ratio(1e-2) - math.e / 2) > 1e-6  # a real limit, not a constant
