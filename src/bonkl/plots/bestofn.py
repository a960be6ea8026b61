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
from bonkl.plots.style import panels, reference_title

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


def kl_overlay(data: pd.DataFrame):
    """KL vs n, all references on one axes, with the formula (paper A, uniform alphabets);
    a second panel: the estimator minus the exact KL (expected, and sampled with its CI)."""
    fig, (ax, bias) = plt.subplots(1, 2, figsize=(11.0, 4.4), layout="constrained")
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
    return fig, data


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


def kl_gap_bounds(data: pd.DataFrame):
    """Formula minus exact KL against the reported upper bound and the saturation lower bound.

    Upper: ``2n(n-1)Σ_y p²`` (reported) and its tie-group form; lower:
    ``log n - (n-1)/n - D̂_n(p(C*))``, from ``KL <= D̂_n(p(C*))``. Log axes; n = 1 is not
    drawn, nor are differences below 1e-13 of the formula's value, which are rounding noise.
    """
    data = data.assign(gap_lower_bound=data["kl_formula"] - data["saturation_bound"])
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups), columns=4, width=3.2, height=2.8)
    for ax, (name, table) in zip(axes, groups, strict=False):
        table = table[table["n"] > 1]
        for column, style, label in [
            ("gap", dict(lw=2.0), "log n − (n−1)/n − KL"),
            ("gap_bound_outcomes", dict(ls="--"), "2n(n−1)Σ_y p² (reported)"),
            ("gap_bound_tie_groups", dict(ls=":"), "2n(n−1)Σ_C p(C)²"),
            ("gap_lower_bound", dict(ls="-."), "log n − (n−1)/n − D̂_n(p(C*))"),
        ]:
            shown = table[table[column] > 1e-13 * table["kl_formula"]]
            ax.plot(shown["n"], shown[column], label=label, **style)
        ax.set(xscale="log", yscale="log", xlabel=N_LABEL, ylabel="gap [nats]")
        reference_title(ax, name)
    axes[0].legend(fontsize="xx-small")
    columns = ["reference", "n", "gap", "gap_bound_outcomes", "gap_bound_tie_groups",
               "gap_lower_bound"]
    return fig, data[columns]


FIGURES = {
    "kl_uniform": kl_overlay,
    "kl_staircase": kl_panels,
    "kl_samples": kl_panels,
    "kl_binary": kl_binary,
    "kl_gap_bounds": kl_gap_bounds,
}
