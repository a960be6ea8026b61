"""Figures of the kl_constrained stage (paper B): frontier, convergence, rate function, cumulants.

Each function takes the stage's tables concatenated with a label column (``reference`` or
``scenario``) and returns ``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import SymmetricalLogLocator

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
    KL per token against m (linear axes: a line is exponential growth in m), with a line of
    slope c∞ (our large-deviation rate) through its last point. One colour per δ value across
    all rows; a legend per row. Where ``mδ <= 3`` (real N = e^{mδ} <= e³, the rows the
    convergence table flags) curves are dotted."""
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
                small = shown["small_m_delta"].astype(bool)
                # the dotted part ends at the first solid point, so the curve is unbroken
                edge = shown[small | (shown["m"] == shown.loc[~small, "m"].min())]
                ax.plot(edge["m"], edge[column], color=colors[delta], lw=1.4, ls=":")
                ax.plot(shown.loc[~small, "m"], shown.loc[~small, column], color=colors[delta],
                        lw=1.4, label=f"δ = {delta:g}")
                if column == "log_kl_tilt_to_bon" and len(shown):
                    last = shown.iloc[-1]
                    m = np.array([shown["m"].min(), last["m"]], dtype=float)
                    ax.plot(m, last[column] + last["reverse_exponent"] * (m - last["m"]),
                            color=colors[delta], lw=0.9, ls="--")
            if column != "log_kl_tilt_to_bon":
                m = np.sort(table["m"].unique())
                ax.plot(m, np.log(np.maximum(m, 2)) / m, color="grey", ls=":", lw=1.0,
                        label="log(m)/m")
                ax.set(xscale="log", yscale="log")
            else:
                ax.plot([], [], color="grey", lw=0.9, ls="--",
                        label="slope c∞ = δ − Λ(λ) + 2Λ(λ/2)")
            ax.set(title=f"{name}: {label}", xlabel=M_LABEL, ylabel=unit)  # reverse: linear m
            ax.title.set_fontsize("small")
        first = axes[row * len(quantities)]
        first.plot([], [], color="grey", lw=1.4, ls=":", label="mδ ≤ 3 (real N ≤ e³): dotted")
        first.legend(fontsize="xx-small")
        axes[row * len(quantities) + len(quantities) - 1].legend(fontsize="xx-small",
                                                                 loc="upper left")
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
    cases = list(errors.groupby(["scenario", "delta"], sort=False))
    for color, ((name, delta), part) in zip(sns.color_palette(n_colors=len(cases)), cases,
                                            strict=True):
        for tail, side in part.groupby("tail"):
            ax.plot(side["m"], side["error"], color=color, marker="o" if tail == "upper" else "s",
                    ls="-" if tail == "upper" else "--", ms=3,
                    label=f"{name}, δ = {delta:g}" if tail == "upper" else None)
    ax.set(xscale="log", yscale="log",
           title="max |tail rate − I(x)|\n(o, solid: upper tail; s, dashed: lower tail)",
           xlabel=M_LABEL, ylabel="nats")
    ax.legend(fontsize="xx-small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0)
    return fig, data


def kl_cumulants(data: pd.DataFrame):
    """κ_k/m at finite m (markers) against Λ^(k)(λ) (lines), one panel per k on a symlog
    axis (the cases' scales differ by orders of magnitude), and a last panel: the Rényi
    cross-entropy form of the scaled CGF (markers) against Λ(λ+t) − Λ(λ) (lines), per t."""
    labels = [f"{s}, δ = {d:g}" for s, d in zip(data["scenario"], data["delta"], strict=True)]
    data = data.assign(case=labels)
    cases = list(dict.fromkeys(labels))
    colors = dict(zip(cases, sns.color_palette(n_colors=len(cases)), strict=True))
    fig, axes = panels(5, columns=5, width=3.0, height=3.0)
    for k, ax in zip(range(1, 5), axes, strict=False):
        part = data[data["panel"] == f"k={k}"]
        for case, table in part.groupby("case", sort=False):
            ax.plot(table["x"], table["value"], "o", color=colors[case], ms=4, label=case)
            ax.axhline(table["limit"].iloc[0], color=colors[case], lw=0.8)
        ax.set_yscale("symlog", linthresh=0.1)
        ax.yaxis.set_major_locator(SymmetricalLogLocator(base=10.0, linthresh=0.1))
        reach = 2.0 * max(0.1, float(np.max(np.abs(part[["value", "limit"]].to_numpy()))))
        ax.set_ylim(-reach, reach)  # symmetric: the sign of every case reads off 0
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set(xscale="log", title=f"k = {k}: κ_k/m vs Λ^({k})(λ)", xlabel=M_LABEL,
               ylabel=f"κ_{k}/m [reward^{k} per token] (symlog)")
    renyi = axes[4]
    for case, table in data[data["panel"] == "renyi"].groupby("case", sort=False):
        table = table.sort_values("x")
        renyi.plot(table["x"], table["limit"], color=colors[case], lw=1.0)
        renyi.plot(table["x"], table["value"], "x", color=colors[case], ms=5)
    renyi.set(title="Λ(λ+t) − Λ(λ) (lines) vs\nits Rényi cross-entropy form (x)",
              xlabel="t (Rényi order 1 + t)", ylabel="scaled CGF [per token]")
    axes[0].legend(fontsize="xx-small")
    return fig, data.drop(columns="case")


FIGURES = {
    "kl_frontier": kl_frontier,
    "kl_convergence": kl_convergence,
    "kl_rate_function": kl_rate_function,
    "kl_cumulants": kl_cumulants,
}
