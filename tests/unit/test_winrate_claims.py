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
    """Every theorem holds; 0.999 is out of reach (W -> 3/4); no threshold between the two."""
    margins = margins_of(np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    summary = summarize(margins, CLAIMS.values()).set_index("claim")
    for claim in ["win_rate_le_bound", "win_rate_gap_bound_outcomes", "win_rate_limit",
                  "best_of_n_le_optimum", "win_rate_gap_bound_distinct_rewards"]:
        assert summary.loc[claim, "holds"], claim
    assert summary.loc["best_of_n_beats_rewind", "cases"] == 0
    stated = margins[margins["claim"] == "win_rate_0999_references"]
    assert stated["margin"].iloc[0] == pytest.approx(0.0005 - (0.999 - (0.75 - 0.5**999 / 2)))
    assert "never reaches 0.999" in stated["case"].iloc[0]
    # n=2: n/(n+1) − W = 2/3 − 5/8 = 1/24 against the bound (1/2)·(1/2) = 1/4
    le_bound = margins[(margins["claim"] == "win_rate_le_bound") & (margins["case"] == "n=2")]
    assert le_bound["margin"].iloc[0] == pytest.approx(1 / 24, rel=1e-14)


def test_distinct_reward_row_only_without_ties():
    margins = margins_of(np.array([0.2, 0.3, 0.1, 0.4]), np.array([1.0, 1.0, 0.0, 2.0]))
    assert "win_rate_gap_bound_distinct_rewards" not in set(margins["claim"])


def test_near_continuous_reference_meets_the_stated_number():
    """Uniform over 10^4: at n = 999, W ≈ 0.998999 and KL ≈ 5.907: both 'about' the stated."""
    p = np.full(10**4, 1e-4)
    margins = margins_of(p, np.arange(10**4, dtype=float))
    stated = margins[margins["claim"] == "win_rate_0999_references"]
    assert (stated["margin"] >= 0).all()
    assert "reaches 0.999 at n=1000" in stated["case"].iloc[0]


def test_rewind_beats_best_of_n_on_a_staircase():
    """A finding kept as a regression: with two small top atoms (1e-2, 1e-3) above a 0.1 atom,
    rewinding to the top two atoms wins more often than best-of-n at the same KL."""
    spec = {"name": "s", "family": "spike", "bulk": 100, "masses": [1e-1, 1e-2, 1e-3]}
    table = build_reference(spec, seed=0)
    margins = margins_of(table["prob"].to_numpy(), table["reward"].to_numpy())
    assert worst(margins, "best_of_n_beats_rewind") < -1e-4


def test_continuous_limit_claims():
    """n* = 999 is the first n with n/(n+1) >= 0.999; log 999 − 998/999 = 5.9078 nats."""
    margins = continuous_margins([1, 2, 10, 999, 10**5])
    stated = margins[margins["claim"] == "win_rate_0999_continuous"]
    assert stated["margin"].tolist() == pytest.approx([0.0, 0.05 - abs(math.log(999) - 998 / 999
                                                                        - 5.9)])
    below = margins[margins["claim"] == "continuous_best_of_n_le_optimum"]
    assert len(below) == 4 and (below["margin"] >= -1e-11).all()
    assert set(margins["reference"]) == {"continuous limit"}


def test_stated_win_rate_equal_to_the_limit_is_never_reached():
    """p(C*) = 0.002 puts the limit 1 − p(C*)/2 at exactly 0.999, which W_n never reaches."""
    p = np.array([0.998, 0.002])
    case = margins_of(p, np.array([0.0, 1.0]))
    stated = case[case["claim"] == "win_rate_0999_references"]
    assert "never reaches 0.999" in stated["case"].iloc[0]
