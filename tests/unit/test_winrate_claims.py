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
    better = margins[(margins["claim"] == "true_tradeoff_equal_kl")
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


def test_uniform_reference_equal_kl_reading_fails_by_a_tiny_margin_past_n_2():
    """A finding about our reading (ii), kept as a regression: uniform over 10^4, W_n sits
    above the continuous curve at n = 2 and below it, by a tiny margin, at n = 1000, although
    the exact KL is below the formula; the paper's reading (i) holds at the same n."""
    p = np.full(10**4, 1e-4)
    margins = margins_of(p, np.arange(10**4, dtype=float))
    rows = margins[margins["claim"] == "true_tradeoff_equal_kl"]
    assert rows["margin"].iloc[0] > 0 > rows["margin"].iloc[-1] > -1e-5
    paper = margins[margins["claim"] == "true_tradeoff_paper_reading"]
    assert len(paper) and (paper["margin"] >= 0).all()
    assert CLAIMS["true_tradeoff_paper_reading"].status == "reported"
    assert CLAIMS["true_tradeoff_equal_kl"].status == "ours"


def test_paper_reading_is_its_two_theorems_where_the_win_rate_bound_is_small():
    """Reading (i) at n = 2 on uniform over 100: the KL's slack is the formula's gap and the
    win rate's slack is Thm 5.4's bound minus n/(n+1) − W_n; n where the bound exceeds half of
    1/(n+1) are not cases; references with ties have no case (Assumption 2.1)."""
    p, r = np.full(100, 0.01), np.arange(100.0)
    by_n = winrate.win_rate_by_n(p, r, [2, 1000])
    margins = margins_of(p, r, (2, 1000))
    paper = margins[margins["claim"] == "true_tradeoff_paper_reading"]
    assert list(paper["case"]) == ["n=2"]
    row = by_n.iloc[0]
    expected = min(row["kl_formula"] - row["kl"], row["gap_bound_outcomes"] - row["gap"])
    assert paper["margin"].iloc[0] == pytest.approx(expected, rel=1e-12)
    tied = margins_of(np.array([0.2, 0.3, 0.1, 0.4]), np.array([1.0, 1.0, 0.0, 2.0]))
    assert "true_tradeoff_paper_reading" not in set(tied["claim"])


def test_conjecture_7_2_is_an_unchecked_row():
    summary = summarize(continuous_margins([2, 10]), CLAIMS.values()).set_index("claim")
    row = summary.loc["conjecture_7_2_tradeoff_upper_bound"]
    assert row["cases"] == 0 and not row["holds"] and row["worst_case"] == "not checked"
    assert "not recovered" in row["statement"] and "not checked" in row["statement"]


def test_equal_kl_table_names_each_reference_worst_margin():
    references = {"binary": (np.array([0.5, 0.5]), np.array([0.0, 1.0])),
                  "uniform": (np.full(100, 0.01), np.arange(100.0))}
    table = winrate.equal_kl_table(references, [1, 2, 10, 100]).set_index("reference")
    margins = margins_of(*references["binary"], n_grid=(1, 2, 10, 100))
    assert table.loc["binary", "worst_margin"] == pytest.approx(
        worst(margins, "true_tradeoff_equal_kl"), rel=1e-12)
    assert table.loc["binary", "cases"] == 3 and table.loc["binary", "win_rate_limit"] == 0.75


def test_few_rewards_give_every_threshold():
    """A heavy answer just below the top reward: log-spaced quantile levels would skip every
    group between the bottom and it; with at most `count` rewards, every reward is a threshold."""
    p = np.array([0.01, 0.02, 0.03, 0.93, 0.01])
    r = np.array([0.0, 0.1, 0.2, 0.9, 0.95])
    assert list(winrate.reward_thresholds(p, r, 40)) == list(r)
    assert winrate.reward_thresholds(np.full(100, 0.01), np.arange(100.0), 40).size <= 40


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


def test_rewind_comparison_is_reported_and_its_e_over_2_derived():
    margins = continuous_margins([2, 10])
    comparison = margins[margins["claim"] == "rewind_comparison"]
    ratios = np.array([winrate.rewind_loss_ratio(e) for e in winrate.REWIND_EPSILONS])
    np.testing.assert_allclose(comparison["margin"], (1 - 1 / ratios) / 2, rtol=1e-12)
    assert (comparison["margin"] > 0).all()
    assert CLAIMS["rewind_comparison"].status == "reported"
    assert CLAIMS["rewind_loss_ratio_e_over_2"].status == "derived"
    assert CLAIMS["continuous_best_of_n_le_optimum"].status == "derived"


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
