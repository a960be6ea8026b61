"""Paper A's KL claims and the claims ledger: margins, merging of summaries, verdicts."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from bonkl import bestofn
from bonkl.study.claims import CLAIMS, best_of_n_margins
from bonkl.study.ledger import Claim, ledger, summarize

GRID = [1, 2, 3, 10, 100, 10**4]


def margins_of(name, p, r):
    return best_of_n_margins(p, r, GRID).assign(reference=name)


def test_margins_are_the_slack_of_each_claim():
    """For uniform over 4: kl_le_formula's margin is formula - KL, computed independently."""
    p, r = np.full(4, 0.25), np.arange(4.0)
    margins = margins_of("u4", p, r)
    formula = margins[margins["claim"] == "kl_le_formula"]
    assert list(formula["n"]) == [2, 3, 10, 100, 10**4]  # n = 1 left out
    expected = bestofn.kl_formula(formula["n"].to_numpy()) - bestofn.kl(p, r, formula["n"])
    np.testing.assert_allclose(formula["margin"], expected, rtol=1e-12)
    assert "binary_closed_form" not in set(margins["claim"])
    assert "gap_bound_distinct_rewards" in set(margins["claim"])


def test_fair_binary_gets_the_closed_form_and_ties_do_not_get_distinct_rows():
    binary = margins_of("b", [0.5, 0.5], [0.0, 1.0])
    assert (binary[binary["claim"] == "binary_closed_form"]["margin"] > -1e-15).all()
    tied = margins_of("t", [0.2, 0.3, 0.5], [0.0, 0.0, 1.0])
    assert "gap_bound_distinct_rewards" not in set(tied["claim"])


def test_reported_gap_bound_fails_with_ties():
    """1000 equal masses in two tied halves: Σ_y p² = 1e-3 is small, the gap is not.

    The gap is that of the fair binary reference (0.062 nats at n = 2), the bound 0.004.
    """
    p = np.full(1000, 1e-3)
    r = np.repeat([0.0, 1.0], 500)
    margins = margins_of("tied", p, r)
    outcomes = margins[margins["claim"] == "gap_bound_outcomes_with_ties"]["margin"]
    groups = margins[margins["claim"] == "gap_bound_tie_groups"]["margin"]
    assert outcomes.min() < 0 <= groups.min()


def test_summaries_merge_to_the_same_verdict_as_all_cases_at_once():
    rng = np.random.default_rng(3)
    parts = [margins_of(f"d{i}", rng.dirichlet(np.ones(5)), rng.integers(0, 3, 5).astype(float))
             for i in range(6)]
    whole = summarize(pd.concat(parts, ignore_index=True), CLAIMS.values())
    halves = [summarize(pd.concat(parts[:3]), CLAIMS.values()),
              summarize(pd.concat(parts[3:]), CLAIMS.values())]
    pd.testing.assert_frame_equal(whole, ledger(pd.concat(halves, ignore_index=True)))
    assert whole["cases"].sum() == sum(len(part) for part in parts)


def test_ledger_verdicts_and_unchecked_claims():
    margins = pd.DataFrame({
        "claim": ["kl_le_formula", "gap_bound_outcomes_with_ties"], "reference": ["a", "b"],
        "case": ["n=2", "n=3"], "margin": [-1e-13, -0.1],
    })
    table = summarize(margins, CLAIMS.values()).set_index("claim")
    assert list(table.index) == list(CLAIMS)
    assert table.loc["kl_le_formula", "holds"]  # within the 1e-12 noise floor
    assert not table.loc["gap_bound_outcomes_with_ties", "holds"]
    assert table.loc["binary_closed_form", "cases"] == 0
    assert not table.loc["binary_closed_form", "holds"]
    assert table.loc["gap_bound_outcomes_with_ties", "worst_case"] == "b at n=3"
    assert table.loc["gap_bound_outcomes_with_ties", "source"] == "ours"


def test_ledger_merges_stages_and_refuses_disagreeing_claims():
    mine = Claim(paper="B", claim="mine", statement="x <= 1", status="proven",
                 evidence="figures/x.png", tolerance=1e-9, source="Thm 1")
    rows = summarize(pd.DataFrame({"claim": ["mine"], "reference": ["s"], "case": ["m=1"],
                                   "margin": [0.5]}), [mine])
    merged = ledger(pd.concat([summarize(pd.DataFrame(columns=["claim", "reference", "case",
                                                               "margin"]), [mine]), rows]))
    assert merged.loc[0, "cases"] == 1 and merged.loc[0, "holds"]
    assert merged.loc[0, "worst_case"] == "s at m=1"
    clash = rows.assign(tolerance=1e-3)
    with pytest.raises(ValueError, match="disagree on tolerance"):
        ledger(pd.concat([rows, clash]))
    with pytest.raises(ValueError, match="not in the claim list"):
        summarize(pd.DataFrame({"claim": ["other"], "reference": ["s"], "case": ["m=1"],
                                "margin": [0.0]}), [mine])
    bad = dict(paper="B", claim="bad", statement="x", evidence="", tolerance=0.0)
    with pytest.raises(ValueError, match="status"):
        Claim(**bad, status="believed", source="ours")
    with pytest.raises(ValueError, match="needs source"):
        Claim(**bad, status="ours", source="Thm 1")
    with pytest.raises(TypeError):
        Claim("B", "bad", "x", "ours", "", 0.0, "ours")  # keyword arguments only


def test_an_unchecked_claim_has_its_row_and_cannot_be_given_margins():
    """A conjecture whose statement was not recovered: 0 cases, holds false, worst_case "not
    checked"; its statement must say so; margins for it are refused; readers find it with
    :func:`unchecked`, apart from the failures."""
    from bonkl.study.ledger import NOT_CHECKED, unchecked

    open_claim = Claim(paper="A", claim="open", status="reported", source="Conj. 1",
                       evidence="none", tolerance=0.0, checked=False,
                       statement="statement not recovered, so not checked")
    failing = Claim(paper="A", claim="fails", status="ours", source="ours", evidence="x",
                    tolerance=0.0, statement="x <= 0")
    margins = pd.DataFrame({"claim": ["fails"], "reference": ["s"], "case": ["n=2"],
                            "margin": [-1.0]})
    table = summarize(margins, [open_claim, failing]).set_index("claim")
    assert table.loc["open", "cases"] == 0 and not table.loc["open", "holds"]
    assert table.loc["open", "worst_case"] == NOT_CHECKED
    assert list(unchecked(table.reset_index()).to_numpy()) == [True, False]
    failures = table[~table["holds"] & ~unchecked(table)]
    assert list(failures.index) == ["fails"]
    with pytest.raises(ValueError, match="unchecked"):
        summarize(margins.assign(claim="open"), [open_claim, failing])
    with pytest.raises(ValueError, match="not checked"):
        Claim(paper="A", claim="quiet", status="reported", source="Conj. 1", evidence="none",
              tolerance=0.0, checked=False, statement="an open conjecture")


def test_estimator_variance_against_mpmath_and_the_straddling_reference():
    """σ²_n of D̂_n(p(y)), y ~ π_n, against mpmath on a small reference; and the reference
    that splits best-of-n between tiny outcomes above (mass 1/n in all) and an outcome of mass
    1/2 below them: σ²_n exceeds log n there, so the draws needed at an additive accuracy grow
    faster than log n (the row about random references can fail)."""
    import mp_reference as mpr

    from bonkl.study.bestofn import estimator_variance

    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 2.0, 1.0])
    n = [2.0, 7.0, 50.0]
    for value, ni in zip(estimator_variance(p, r, n), n, strict=True):
        with mp.workdps(50):
            weights = mpr.pmf(p, r, ni)
            values = [mpr.estimator(q, ni) for q in p]
            mean = mp.fsum(w * v for w, v in zip(weights, values, strict=True))
            exact = mp.fsum(w * (v - mean) ** 2 for w, v in zip(weights, values, strict=True))
        assert value == pytest.approx(float(exact), rel=1e-9)
    n = 10**5
    straddle = np.r_[np.full(50, 1 / (50 * n)), 0.5, 0.5 - 1 / n]
    rewards = np.r_[np.arange(50) + 10.0, 5.0, 0.0]
    assert estimator_variance(straddle, rewards, [n])[0] > np.log(n)
    margins = best_of_n_margins(straddle, rewards, [2, n])
    assert worst_margin(margins, "estimator_sample_size") < 0


def worst_margin(margins, claim):
    return margins.loc[margins["claim"] == claim, "margin"].min()


def test_random_references_report_the_sample_size_under_their_own_claim():
    from bonkl.study.claims import random_reference_summary

    table = random_reference_summary(np.random.default_rng(5), 3, 20, GRID, "r").set_index(
        "claim")
    assert table.loc["estimator_sample_size", "cases"] == 0
    assert table.loc["estimator_sample_size_random_references", "cases"] > 0
    assert table.loc["estimator_sample_size_random_references", "status"] == "ours"


def test_replaying_a_random_reference_gives_the_checked_one():
    """The evidence figure of the tied outcome form draws the chunk's worst reference again."""
    from bonkl.study.claims import (
        random_reference_summary,
        replay_random_reference,
        worst_random_reference,
    )

    summary = random_reference_summary(np.random.default_rng(11), 8, 30, GRID, "random-4")
    name, index = worst_random_reference(summary, "gap_bound_outcomes_with_ties")
    assert name == f"random-4-{index}"
    p, r = replay_random_reference(np.random.default_rng(11), index, 30)
    margins = best_of_n_margins(p, r, GRID)
    row = summary.set_index("claim").loc["gap_bound_outcomes_with_ties"]
    assert worst_margin(margins, "gap_bound_outcomes_with_ties") == row["worst_margin"]


def test_thm_3_6_remainder_against_mpmath():
    """Distinct rewards, ε∞ = 0.2: the margin gap − log(n ε∞) + 1 from mpmath's F^n − F⁻^n,
    and at n = 2500 it is 1/n up to (0.8)^2500: tight, so a KL above log 1/ε∞ would fail."""
    import mp_reference as mpr

    p, r = np.array([0.5, 0.3, 0.2]), np.array([0.0, 1.0, 2.0])
    margins = margins_of("d", p, r)
    rows = margins[margins["claim"] == "gap_lower_bound_thm_3_6"]
    assert list(rows["n"])[-3:] == pytest.approx([250.0, 2500.0, 25000.0])
    for n, margin in zip(rows["n"], rows["margin"], strict=True):
        exact = float(mpr.formula(n) - mpr.kl(p, r, n) - mp.log(n * mp.mpf("0.2")) + 1)
        assert margin == pytest.approx(exact, rel=1e-9, abs=1e-13)
    assert rows["margin"].iloc[-2] == pytest.approx(1 / 2500, rel=1e-9)


def test_estimator_range_grid():
    """The grid reaches ε = 1e-300 and n = 1e12; D̂ stays in [0, formula] up to rounding."""
    from bonkl.study.claims import estimator_range_margins

    grid = estimator_range_margins()
    assert grid["n"].max() == 1e12 and grid["case"].str.endswith("eps=1e-300").any()
    assert grid["margin"].min() >= -1e-12
