"""Figures of the winrate stage (paper A, sections 5-7): win rate against n and against KL.

Each function takes the per-reference tables of the stage, concatenated with a
``reference`` column, and returns ``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
Win rates are drawn on a logit axis, which keeps both 0.5 and 0.9999 readable; sampled
values and interval ends at exactly 1 lie beyond it: they are drawn at its top, and sampled
win rates of exactly 1 get their own marker and legend entry.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import SymmetricalLogLocator

from bonkl import tradeoff
from bonkl.plots.style import panels, reference_title

WIN_LABEL = "win rate (logit axis)"
KL_LABEL = "KL(policy ‖ reference) [nats]"
N_LABEL = "n (samples per best-of-n draw)"


def _logit_axis(ax, top_loss: float) -> None:
    """Logit y axis from 0.45 up to ``1 - top_loss``."""
    ax.set_yscale("logit")
    ax.set_ylim(0.45, 1.0 - top_loss)


def _figure_legend(fig, axes) -> None:
    """One legend for the whole figure, above the panels (none of them is covered): every
    distinct entry of every panel, in order of first appearance."""
    entries = {}
    for ax in axes:
        if ax.get_visible():
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside upper center",
               ncol=min(3, len(entries)), fontsize="small")


def winrate_vs_n(data: pd.DataFrame):
    """Exact and sampled W_n against n/(n+1) and the limit 1 − p(C*)/2, one panel per reference."""
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups))
    axes = list(axes)
    colors = sns.color_palette()
    top_loss = (1.0 - data["win_rate_bound"].max()) / 3.0
    for ax, (name, table) in zip(axes, groups, strict=False):
        ax.plot(table["n"], table["win_rate_bound"], color="black", ls=":", lw=1.2,
                label="n/(n+1)")
        ax.plot(table["n"], table["win_rate"], color=colors[0], lw=1.8, label="exact W_n")
        ax.axhline(table["win_rate_limit"].iloc[0], color="grey", ls="-.", lw=0.8,
                   label="1 − p(C*)/2")
        ones = table["sampled_win_rate"] >= 1.0
        below = table[~ones]
        low, mean, high = (np.minimum(below[c], 1.0 - top_loss)
                           for c in ["sampled_low", "sampled_win_rate", "sampled_high"])
        ax.errorbar(below["n"], mean, yerr=[mean - low, high - mean],
                    fmt="o", ms=2.5, color=colors[1], elinewidth=0.8, capsize=0,
                    label=f"sampled, {int(table['pairs'].iloc[0])} pairs, 95% CI")
        ax.plot(table.loc[ones, "n"], np.full(int(ones.sum()), 1.0 - 2.0 * top_loss), "^",
                mfc="white", color="C3", ms=5,
                label="sampled W = 1 exactly (off the logit axis; drawn at its top)")
        ax.set(xscale="log", xlabel=N_LABEL, ylabel=WIN_LABEL)
        reference_title(ax, name)
        _logit_axis(ax, top_loss)
    _figure_legend(fig, axes)
    columns = ["reference", "n", "win_rate", "win_rate_bound", "win_rate_limit",
               "sampled_win_rate", "sampled_low", "sampled_high", "pairs"]
    return fig, data[columns]


_CURVES = {  # curve -> (label, style); drawn in this order, the optima last (on top)
    "best_of_n_formula": ("best-of-n as claimed: (log n − (n−1)/n, n/(n+1))",
                          dict(color="C3", ls="--", lw=1.2)),
    "rewind": ("rewind-and-repeat", dict(color="C1", ls="none", marker="x", ms=4)),
    "best_of_n": ("best-of-n, exact", dict(color="C0", lw=1.0, marker="o", ms=2.5)),
    "optimum": ("optimum (mid-rank tilt)", dict(color="C2", lw=2.0, ls=(0, (4, 2)))),
    "continuous_optimum": ("optimum, continuous limit", dict(color="black", ls=":", lw=1.6)),
}


def winrate_tradeoff(data: pd.DataFrame):
    """Win rate against KL, one column of two panels per reference. Top: best-of-n (exact and
    as the formula claims it), rewind-and-repeat, the discrete optimum and the continuous
    optimum, on each reference's own KL range (a little beyond its largest exact KL, so the
    binary reference's panel is filled). Bottom: each curve's win rate minus the discrete
    optimum's at the same KL, where the curves that coincide on top come apart (negative:
    below the optimum; the formula's claim can lie above it)."""
    groups = list(data.groupby("reference", sort=False))
    columns = min(3, len(groups))
    rows = -(-len(groups) // columns)
    fig, grid = plt.subplots(2 * rows, columns, figsize=(3.9 * columns, 4.6 * rows),
                             squeeze=False, layout="constrained",
                             height_ratios=[2.0, 1.0] * rows)
    shown_parts = []
    for index, (name, table) in enumerate(groups):
        top, bottom = grid[2 * (index // columns), index % columns], grid[
            2 * (index // columns) + 1, index % columns]
        reach = table[table["curve"].isin(["best_of_n", "rewind"])]["kl"].max()
        kl_max = 1.15 * max(reach, 1e-3)
        losses = 1.0 - table.loc[(table["kl"] <= kl_max) & (table["win_rate"] < 1.0),
                                 "win_rate"]
        top_loss = float(losses.min()) / 3.0
        shown = table[(table["kl"] <= kl_max) & (table["win_rate"] < 1.0 - top_loss)]
        shown = shown.assign(minus_optimum=shown["win_rate"] - shown["optimum_win_rate"])
        for curve, (label, style) in _CURVES.items():
            rows_ = shown[shown["curve"] == curve].sort_values("kl")
            top.plot(rows_["kl"], rows_["win_rate"], label=label, **style)
            if curve != "optimum":  # the optimum is the zero line
                bottom.plot(rows_["kl"], rows_["minus_optimum"], **style)
        bottom.axhline(0.0, color="C2", lw=2.0, ls=(0, (4, 2)))
        top.set(xlabel=KL_LABEL, ylabel=WIN_LABEL, xlim=(0.0, kl_max))
        reference_title(top, name)
        _logit_axis(top, top_loss)
        bottom.set_yscale("symlog", linthresh=1e-6)
        bottom.yaxis.set_major_locator(SymmetricalLogLocator(base=100.0, linthresh=1e-6))
        bottom.set(xlim=(0.0, kl_max), xlabel=KL_LABEL, ylabel="W − W_optimum (symlog)")
        shown_parts.append(shown)
    for index in range(len(groups), rows * columns):
        grid[2 * (index // columns), index % columns].set_visible(False)
        grid[2 * (index // columns) + 1, index % columns].set_visible(False)
    _figure_legend(fig, grid.flat)
    return fig, pd.concat(shown_parts, ignore_index=True)


def winrate_rewind(data: pd.DataFrame):
    """Rewind-and-repeat against best-of-n at equal KL, one panel per reference, and their
    cost in reference draws in a last panel.

    Panels: the loss ratio ``(1 − W_rewind)/(1 − W_best-of-n)`` at each threshold's KL
    (above 1: best-of-n wins more often), with the optimum's ratio (the most any policy can
    reach) and the continuous limit ``(e^{−KL}/2)·(n+1)`` where ``log n − (n−1)/n = KL``;
    each panel on its reference's own KL range.
    """
    data = data[(data["kl"] > 0) & ~data["at_cap"].astype(bool)]
    data = data.assign(loss_ratio=(1.0 - data["win_rate"]) / (1.0 - data["bon_win_rate"]),
                       optimum_loss_ratio=(1.0 - data["win_rate"])
                       / (1.0 - data["optimum_win_rate"]))
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups) + 1)
    kl = np.linspace(1e-3, data["kl"].max(), 200)
    n = np.array([tradeoff.formula_n_at_kl(d) for d in kl])
    continuous = np.exp(-kl) / 2.0 * (n + 1.0)
    for ax, (name, table) in zip(axes, groups, strict=False):
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.plot(kl, continuous, color="black", ls=":", lw=1.2, label="continuous limit")
        ax.plot(table["kl"], table["optimum_loss_ratio"], color="C2", lw=2.4, alpha=0.5,
                marker="s", ms=3, label="optimum at equal KL")
        ax.plot(table["kl"], table["loss_ratio"], color="C0", marker="o", ms=3,
                label="best-of-n at equal KL")
        ax.set(xlabel=KL_LABEL, ylabel="(1 − W_rewind) / (1 − W_policy)",
               xlim=(0.0, 1.1 * table["kl"].max()))  # each reference's own KL range
        reference_title(ax, name)
    axes[0].legend(fontsize="xx-small")
    cost = axes[len(groups)]
    for color, (name, table) in zip(sns.color_palette(n_colors=len(groups)), groups,
                                    strict=True):
        cost.plot(table["kl"], table["expected_draws"], color=color, marker="x", ls="none",
                  ms=4)
        cost.plot(table["kl"], table["bon_n"], color=color, lw=1.0, label=name)
    cost.set(yscale="log", title="draws per sample\n(x: rewind, mean; line: best-of-n's n)",
             xlabel=KL_LABEL, ylabel="reference draws per sample")
    cost.legend(fontsize="xx-small")
    columns = ["reference", "threshold", "kl", "accept_mass", "expected_draws", "win_rate",
               "bon_n", "bon_win_rate", "optimum_win_rate", "loss_ratio", "optimum_loss_ratio"]
    return fig, data[columns]


FIGURES = {
    "winrate_vs_n": winrate_vs_n,
    "winrate_tradeoff": winrate_tradeoff,
    "winrate_rewind": winrate_rewind,
}
