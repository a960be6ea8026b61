"""Figures of the kl_constrained stage (paper B): frontier, convergence, rate function, cumulants.

Each function takes the stage's tables concatenated with a label column (``reference`` or
``scenario``) and returns ``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from bonkl.plots.style import panels, reference_title

M_LABEL = "m (sequence length)"


def kl_frontier(data: pd.DataFrame):
    """Reward against KL: the tilted frontier, best-of-n at its exact and formula KL."""
    groups = list(data.groupby("reference", sort=False))
    fig, axes = panels(len(groups))
    colors = sns.color_palette()
    for ax, (name, table) in zip(axes, groups, strict=False):
        tilt = table[table["kind"] == "tilt"]
        ax.plot(tilt["kl"], tilt["reward"], color="black", lw=1.5, label="optimal φ_Δ (tilt)")
        for color, kind, marker, label in [
            (colors[0], "best_of_n_exact_kl", "o", "best-of-n, exact KL"),
            (colors[1], "best_of_n_formula_kl", "x", "best-of-n, log n − (n−1)/n"),
        ]:
            points = table[(table["kind"] == kind) & (table["n"] > 1)]
            ax.plot(points["kl"], points["reward"], marker, color=color, ms=3.5, label=label)
        ax.set(xscale="log", xlabel="KL(π ‖ reference) [nats]", ylabel="expected reward")
        reference_title(ax, name)
    axes[0].legend(fontsize="x-small")
    return fig, data


def kl_convergence(data: pd.DataFrame):
    """Per scenario: the three best-of-N gaps against m (log axes) and the log of the reverse
    KL per token against m (linear axes: a line is exponential growth in m). One colour per δ
    value across all rows; a legend per row."""
    data = data.assign(reward_gap=(data["reward_tilt"] - data["reward_bon"]).abs(),
                       kl_gap=(data["delta"] - data["kl_bon"]).abs())
    quantities = [("reward_gap", "|E_π r − E_φ r| / m", "reward per token"),
                  ("kl_gap", "|KL(π_N ‖ p)/m − δ|", "nats per token"),
                  ("kl_bon_to_tilt", "KL(π_N ‖ φ_Δ)/m", "nats per token"),
                  ("log_kl_tilt_to_bon", "log(KL(φ_Δ ‖ π_N)/m)", "log of nats per token")]
    colors = dict(zip(sorted(data["delta"].unique()), sns.color_palette(n_colors=max(
        10, data["delta"].nunique())), strict=False))
    scenarios = list(data.groupby("scenario", sort=False))
    fig, axes = panels(len(scenarios) * len(quantities), columns=len(quantities), width=3.1,
                       height=2.7)
    axes = list(axes)
    for row, (name, table) in enumerate(scenarios):
        for col, (column, label, unit) in enumerate(quantities):
            ax = axes[row * len(quantities) + col]
            for delta, part in table.groupby("delta"):
                if column == "log_kl_tilt_to_bon":
                    shown = part[part["reverse_computed"].astype(bool)]
                else:
                    shown = part[part[column] > 0]
                ax.plot(shown["m"], shown[column], color=colors[delta], lw=1.4,
                        label=f"δ = {delta:g}")
            if column != "log_kl_tilt_to_bon":
                m = np.sort(table["m"].unique())
                ax.plot(m, np.log(np.maximum(m, 2)) / m, color="grey", ls=":", lw=1.0,
                        label="log(m)/m")
                ax.set(xscale="log", yscale="log")
            ax.set(title=f"{name}: {label}", xlabel=M_LABEL, ylabel=unit)  # reverse: linear m
            ax.title.set_fontsize("small")
        axes[row * len(quantities)].legend(fontsize="xx-small")
    return fig, data


def kl_rate_function(data: pd.DataFrame):
    """Per (scenario, δ): I(x) and the finite-m tail rates, −(1/m)·log P_φ(r/m ≥ x) above the
    mean and −(1/m)·log P_φ(r/m ≤ x) below it; a last panel: the largest error against I per
    tail, against m (it must fall)."""
    groups = list(data.groupby(["scenario", "delta"], sort=False))
    fig, axes = panels(len(groups) + 1, columns=3)
    palette = sns.color_palette()
    for ax, ((name, delta), table) in zip(axes, groups, strict=False):
        first = table[table["m"] == table["m"].min()].sort_values("x")
        ax.plot(first["x"], first["rate_function"], color="black", lw=2.0, label="I(x)")
        for color, (m, part) in zip(palette, table.groupby("m"), strict=False):
            for tail, side in part.groupby("tail"):
                ax.plot(side["x"], side["tail_rate"], color=color, ls="--", lw=1.2,
                        label=f"m = {m}" if tail == "upper" else None)
        ax.set(title=f"{name}, δ = {delta:g}", xlabel="x (reward per token)",
               ylabel="tail rate: −(1/m) log P [nats]")
    axes[0].legend(fontsize="x-small")
    errors = (data.assign(error=(data["tail_rate"] - data["rate_function"]).abs())
              .groupby(["scenario", "delta", "tail", "m"], sort=False)["error"].max()
              .reset_index())
    ax = axes[len(groups)]
    for color, ((name, delta), part) in zip(palette, errors.groupby(["scenario", "delta"],
                                                                     sort=False), strict=False):
        for tail, side in part.groupby("tail"):
            ax.plot(side["m"], side["error"], color=color, marker="o" if tail == "upper" else "s",
                    ls="-" if tail == "upper" else "--", ms=3,
                    label=f"{name}, δ = {delta:g}, {tail}")
    ax.set(xscale="log", yscale="log", title="max |tail rate − I(x)| (o upper, s lower)",
           xlabel=M_LABEL, ylabel="nats")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)  # room for the legend above the lines
    ax.legend(fontsize=5, ncol=2, loc="upper right")
    return fig, data


def kl_cumulants(data: pd.DataFrame):
    """κ_k/m at finite m (markers) against Λ^(k)(λ) (lines), one panel per k."""
    fig, axes = panels(4, columns=4, width=3.0, height=2.8)
    labels = [f"{s}, δ = {d:g}" for s, d in zip(data["scenario"], data["delta"], strict=True)]
    data = data.assign(case=labels)
    for k, ax in zip(range(1, 5), axes, strict=True):
        part = data[data["k"] == k]
        for color, (case, table) in zip(sns.color_palette(), part.groupby("case", sort=False),
                                        strict=False):
            ax.plot(table["m"], table["scaled_cumulant"], "o", color=color, ms=4, label=case)
            ax.axhline(table["cgf_derivative"].iloc[0], color=color, lw=0.8)
        ax.set(xscale="log", title=f"k = {k}: κ_k/m vs Λ^({k})(λ)", xlabel=M_LABEL,
               ylabel=f"κ_{k}/m [reward^{k} per token]")
    axes[0].legend(fontsize="xx-small")
    return fig, data.drop(columns="case")


FIGURES = {
    "kl_frontier": kl_frontier,
    "kl_convergence": kl_convergence,
    "kl_rate_function": kl_rate_function,
    "kl_cumulants": kl_cumulants,
}
