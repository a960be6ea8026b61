"""Figures of the bestofn stage (paper A, sections 3-4): KL of best-of-n against n.

Each function takes the per-reference tables of the stage, concatenated with a
``reference`` column, and returns ``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from bonkl import bestofn
from bonkl.plots.style import SYNTHETIC, panels, reference_title

KL_LABEL = "KL(best-of-n ‖ reference) [nats]"
N_LABEL = "n (samples per best-of-n draw)"


def _kl_curves(ax, table: pd.DataFrame, color, label: str = "") -> None:
    suffix = f", {label}" if label else ""
    ax.plot(table["n"], table["kl"], color=color, lw=1.8, label=f"exact KL{suffix}")
    ax.plot(table["n"], table["expected_estimator"], color=color, lw=1.2, ls="--",
            label=f"E[estimator]{suffix}")
    if "mc_estimator" in table:
        ax.errorbar(table["n"], table["mc_estimator"],
                    yerr=[table["mc_estimator"] - table["mc_low"],
                          table["mc_high"] - table["mc_estimator"]],
                    fmt="o", ms=2.5, color=color, elinewidth=0.8, capsize=0,
                    label=f"estimator, {int(table['mc_draws'].iloc[0])} draws, 95% CI{suffix}")


#: The values of n of the estimator-range panel, which checks paper A's range
#: 0 <= D̂_n(ε) <= log n − (n−1)/n over the ε of ``RANGE_EPSILONS``.
RANGE_NS = (2, 10, 1e3, 1e6, 1e12)
RANGE_EPSILONS = np.concatenate([np.logspace(-300, -17, 50), np.logspace(-16, -1, 301)[:-1],
                                 0.5 - np.logspace(np.log10(0.4), -3, 40),
                                 1 - np.logspace(np.log10(0.5), -12, 200)])


def _estimator_range(ax) -> pd.DataFrame:
    """Draw ``D̂_n(ε)/(log n − (n−1)/n)`` against ε for :data:`RANGE_NS`; return its data."""
    rows = []
    for n in RANGE_NS:
        ratio = bestofn.kl_estimator(RANGE_EPSILONS, n) / bestofn.kl_formula(n)
        ax.plot(RANGE_EPSILONS, ratio, lw=1.3, label=f"n = {n:g}")
        rows.append(pd.DataFrame({"n": float(n), "eps": RANGE_EPSILONS, "ratio": ratio}))
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xscale("logit")  # both ends readable: ε down to 1e-16 and 1 − ε down to 1e-12
    ax.set_xticks([1e-15, 1e-10, 1e-5, 0.5, 1 - 1e-5, 1 - 1e-10])
    ax.set(xlim=(1e-16, RANGE_EPSILONS[-1]), ylim=(-0.05, 1.1),
           xlabel=f"ε (mass of the drawn outcome; logit axis; data to {RANGE_EPSILONS[0]:.0e})",
           ylabel="D̂_n(ε) / (log n − (n−1)/n)",
           title="the estimator's range: 0 ≤ D̂_n(ε) ≤ log n − (n−1)/n")
    ax.legend(fontsize="xx-small", loc="lower left")
    return pd.concat(rows, ignore_index=True)


def kl_overlay(data: pd.DataFrame):
    """KL vs n, all references on one axes, with the formula (paper A, uniform alphabets);
    a second panel: the estimator minus the exact KL (expected, and sampled with its CI); a
    third: the estimator's range over ε, ``D̂_n(ε)/(log n − (n−1)/n)``, for a few n. The
    plotted data is long: ``panel, reference, quantity, n, x, value`` (x is n, or ε in the
    range panel)."""
    fig, (ax, bias, span) = plt.subplots(1, 3, figsize=(16.0, 4.6), layout="constrained")
    n = np.sort(data["n"].unique())
    ax.plot(n, bestofn.kl_formula(n), color="black", lw=1.2, ls=":", label="log n − (n−1)/n")
    groups = data.groupby("reference", sort=False)
    for color, (name, table) in zip(sns.color_palette(), groups, strict=False):
        _kl_curves(ax, table, color, name)
        bias.plot(table["n"], table["expected_estimator"] - table["kl"], color=color, lw=1.4,
                  label=f"E[estimator] − KL, {name}")
        if "mc_estimator" in table:
            bias.errorbar(table["n"], table["mc_estimator"] - table["kl"],
                          yerr=[table["mc_estimator"] - table["mc_low"],
                                table["mc_high"] - table["mc_estimator"]],
                          fmt="o", ms=2.5, color=color, elinewidth=0.8, capsize=0,
                          label=f"sampled estimator − KL, 95% CI, {name}")
    bias.axhline(0.0, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel=N_LABEL, ylabel=KL_LABEL)
    bias.set(xscale="log", xlabel=N_LABEL, ylabel="estimator − exact KL [nats]",
             title="the estimator's bias (largest near n ≈ L)")
    ax.legend(fontsize="xx-small", ncol=2)
    bias.set_ylim(top=bias.get_ylim()[1] * 1.6)  # room for the legend above the peaks
    bias.legend(fontsize="xx-small", ncol=2, loc="upper left")
    grid = _estimator_range(span)
    tables = data.melt(id_vars=["reference", "n"], var_name="quantity").assign(
        panel="KL against n", x=lambda t: t["n"])
    ranges = grid.rename(columns={"eps": "x", "ratio": "value"}).assign(
        panel="estimator range", reference="none", quantity="estimator_over_formula")
    columns = ["panel", "reference", "quantity", "n", "x", "value"]
    return fig, pd.concat([tables[columns], ranges[columns]], ignore_index=True)


def kl_panels(data: pd.DataFrame):
    """KL vs n, one panel per reference, with the formula and the cap log 1/p(C*)."""
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups))
    for ax, (name, table) in zip(axes, groups, strict=False):
        ax.plot(table["n"], table["kl_formula"], color="black", lw=1.0, ls=":",
                label="log n − (n−1)/n")
        _kl_curves(ax, table, sns.color_palette()[0])
        ax.axhline(table["saturation_limit"].iloc[0], color="grey", lw=0.8, ls="-.",
                   label="log 1/p(C*)")
        ax.set(xscale="log", xlabel=N_LABEL, ylabel=KL_LABEL)
        reference_title(ax, name)
    axes[0].legend(fontsize="x-small")
    return fig, data


def kl_binary(data: pd.DataFrame):
    """Two equally likely outcomes: exact KL against log 2 − h(2^-n) and the formula."""
    data = data.assign(closed_form=bestofn.binary_kl_closed_form(data["n"].to_numpy()))
    fig, ax = plt.subplots(figsize=(5.6, 4.0), layout="constrained")
    ax.plot(data["n"], data["kl_formula"], color="black", ls=":", label="log n − (n−1)/n")
    ax.plot(data["n"], data["kl"], lw=2.2, alpha=0.6, label="exact KL")
    ax.plot(data["n"], data["closed_form"], "x", ms=4, label="log 2 − h(2⁻ⁿ)")
    ax.axhline(np.log(2.0), color="grey", lw=0.8, ls="-.", label="log 2")
    ax.set(xscale="log", xlabel=N_LABEL, ylabel=KL_LABEL)
    ax.legend(fontsize="small")
    return fig, data[["reference", "n", "kl", "closed_form", "kl_formula"]]


def distinct_rewards(table: pd.DataFrame) -> bool:
    """Whether a reference's rewards are all distinct, read off its table: its outcome form
    ``2n(n−1)Σ_y p²`` equals its tie-group form ``2n(n−1)Σ_C p(C)²`` only then."""
    return bool(np.allclose(table["gap_bound_outcomes"], table["gap_bound_tie_groups"],
                            rtol=1e-12, atol=0.0))


def kl_gap_bounds(data: pd.DataFrame):
    """Formula minus exact KL against the reported upper bound and the saturation lower bound.

    Upper: ``2n(n-1)Σ_y p²`` (reported) and its tie-group form; lower:
    ``log n - (n-1)/n - D̂_n(p(C*))``, from ``KL <= D̂_n(p(C*))``, and Theorem 3.6's in the
    ledger's explicit form ``log(n·p(C*)) − 1`` (its ε∞ is p(C*) under distinct rewards). Log
    axes; n = 1 is not drawn, nor are values below 1e-13 of the formula's value (rounding
    noise, and the lower bounds where they are negative).
    """
    data = data.assign(gap_lower_bound=data["kl_formula"] - data["saturation_bound"],
                       thm_3_6_lower_bound=np.log(data["n"]) - data["saturation_limit"] - 1.0)
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups), columns=4, width=3.2, height=2.8)
    axes = list(axes)
    for ax, (name, table) in zip(axes, groups, strict=False):
        table = table[table["n"] > 1]
        for column, style, label in [
            ("gap", dict(lw=2.0), "log n − (n−1)/n − KL"),
            ("gap_bound_outcomes", dict(ls="--"), "2n(n−1)Σ_y p² (reported)"),
            ("gap_bound_tie_groups", dict(ls=":"), "2n(n−1)Σ_C p(C)²"),
            ("gap_lower_bound", dict(ls="-."), "log n − (n−1)/n − D̂_n(p(C*))"),
            ("thm_3_6_lower_bound", dict(ls=(0, (1, 3)), lw=1.6, color="black"),
             "log(n·p(C*)) − 1 (Thm 3.6, explicit; distinct rewards only)"),
        ]:
            if column == "thm_3_6_lower_bound" and not distinct_rewards(table):
                continue
            shown = table[table[column] > 1e-13 * table["kl_formula"]]
            ax.plot(shown["n"], shown[column], label=label, **style)
        ax.set(xscale="log", yscale="log", xlabel=N_LABEL, ylabel="gap [nats]")
        reference_title(ax, name)
    entries = {}
    for ax in axes[:len(groups)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside upper center", ncol=3,
               fontsize="small")
    columns = ["reference", "n", "gap", "gap_bound_outcomes", "gap_bound_tie_groups",
               "gap_lower_bound", "thm_3_6_lower_bound"]
    return fig, data[columns]


def kl_sample_size(data: pd.DataFrame):
    """The draws the estimator needs for a fixed additive accuracy, against n (left), and the
    Monte Carlo check: the share of estimates of that many draws within the accuracy, with
    Clopper–Pearson intervals, against the target 1 − δ (right)."""
    fig, (need, cover) = plt.subplots(1, 2, figsize=(11.0, 4.2), layout="constrained")
    for color, (name, table) in zip(sns.color_palette(), data.groupby("reference", sort=False),
                                    strict=False):
        table = table[table["n"] > 1]
        label = f"{name} (synthetic)" if name in SYNTHETIC else name
        need.plot(table["n"], table["draws_needed"], color=color, marker="o", ms=2.5, lw=1.3,
                  label=label)
        cover.errorbar(table["n"], table["coverage"],
                       yerr=[table["coverage"] - table["coverage_low"],
                             table["coverage_high"] - table["coverage"]],
                       fmt="o", ms=3, color=color, elinewidth=0.8, capsize=0, label=label)
    n = np.sort(data.loc[data["n"] > 1, "n"].unique())
    peak = data.loc[data.loc[data["n"] > 1, "draws_needed"].idxmax()]
    for power, style in ((1, "--"), (2, ":")):
        scale = peak["draws_needed"] / np.log(peak["n"]) ** power
        need.plot(n, scale * np.log(n) ** power, color="grey", ls=style, lw=1.0,
                  label=f"∝ (log n)^{power}, through the largest count")
    need.set(xscale="log", yscale="log", xlabel=N_LABEL,
             ylabel="draws needed, ⌈(z·σ_n/ε)²⌉",
             title=f"draws for an additive accuracy ε = {data['accuracy'].iloc[0]:g} nats "
             "(exact σ_n)")
    need.legend(fontsize="xx-small")
    replications = int(data["coverage_replications"].iloc[0])
    cover.axhline(data["coverage_target"].iloc[0], color="black", ls=":", lw=1.0,
                  label="target 1 − δ")
    cover.set(xscale="log", ylim=(0.0, 1.05), xlabel=N_LABEL,
              ylabel="share of estimates within ε",
              title=f"Monte Carlo check: {replications} estimates per n, 95% CI")
    cover.legend(fontsize="xx-small", loc="lower left")
    columns = ["reference", "n", "estimator_sd", "draws_needed", "coverage", "coverage_low",
               "coverage_high", "coverage_replications", "coverage_target", "accuracy"]
    return fig, data[columns]


FIGURES = {
    "kl_sample_size": kl_sample_size,
    "kl_gap_bounds_random": kl_gap_bounds,
    "kl_uniform": kl_overlay,
    "kl_staircase": kl_panels,
    "kl_samples": kl_panels,
    "kl_binary": kl_binary,
    "kl_gap_bounds": kl_gap_bounds,
}
