"""Figures of the policy_gradient stage (paper C's "1 or 2" experiment as a NumPy analogue).

Each function takes the stage's per-task tables stacked with a ``task`` column and returns
``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from bonkl.plots.style import panels

MARKERS = {"vanilla": "o", "mara": "^"}
METHOD_COLORS = dict(zip(["vanilla", "mara"], sns.color_palette("colorblind", 2), strict=True))
STYLES = {"reverse": "-", "forward": "--"}
ENTROPY_LABEL = "valid-answer entropy / log |V| (1 = uniform)"
CURVE_METRICS = {
    "mean_reward": "mean reward",
    "valid_entropy_normalized": "valid entropy / log |V|",
    "top_mode_share": "top mode's valid share",
    "kl_reference": "KL(π ‖ π_ref) [nats]",
    "kl_target": "KL(π ‖ exact target) [nats]",
}


def _pairs(data: pd.DataFrame) -> list[tuple[str, str]]:
    return list(data.groupby(["task", "regularizer"], sort=False).groups)


def pareto(data: pd.DataFrame):
    """Mean reward against valid-answer entropy, one point per run; hollow: exact targets."""
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.0, height=3.2, columns=len(regularizers))
    betas = sorted(data["beta"].unique())
    colors = dict(zip(betas, sns.color_palette("viridis", len(betas)), strict=True))
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        for (method, beta), runs in part.groupby(["method", "beta"], sort=False):
            ax.scatter(runs["valid_entropy_normalized"], runs["mean_reward"], s=18,
                       marker=MARKERS[method], color=colors[beta], alpha=0.8, linewidths=0)
            target = runs.iloc[0]
            ax.scatter(target["target_valid_entropy_normalized"], target["target_mean_reward"],
                       s=60, marker=MARKERS[method], facecolors="none", edgecolors=colors[beta])
        ax.set(title=f"{task}: {regularizer} KL", xlabel=ENTROPY_LABEL, ylabel="mean reward",
               xlim=(-0.03, 1.03))
    handles = [Line2D([], [], ls="", marker=MARKERS[m], color="grey", label=m)
               for m in dict.fromkeys(data["method"])]
    handles += [Line2D([], [], ls="", marker="s", color=colors[b], label=f"β = {b:g}")
                for b in betas]
    handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="none", color="black",
                          label="exact target"))
    fig.legend(handles=handles, loc="outside right center", fontsize="x-small")
    columns = ["task", "regularizer", "method", "beta", "seed", "valid_entropy_normalized",
               "mean_reward", "target_valid_entropy_normalized", "target_mean_reward"]
    return fig, data[columns]


def curves(data: pd.DataFrame):
    """Training curves (seed mean, band: seed range) per task and metric, one β."""
    tasks = list(dict.fromkeys(data["task"]))
    fig, axes = panels(len(tasks) * len(CURVE_METRICS), width=3.2, height=2.6,
                       columns=len(CURVE_METRICS))
    keys = ["task", "regularizer", "method", "step"]
    summary = data.groupby(keys, sort=False)[list(CURVE_METRICS)].agg(["mean", "min", "max"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    summary = summary.reset_index()
    axes = list(axes)
    for row, task in enumerate(tasks):
        part = summary[summary["task"] == task]
        for col, (metric, label) in enumerate(CURVE_METRICS.items()):
            ax = axes[row * len(CURVE_METRICS) + col]
            for (regularizer, method), line in part.groupby(["regularizer", "method"],
                                                             sort=False):
                color = METHOD_COLORS[method]
                ax.plot(line["step"], line[f"{metric}_mean"], color=color,
                        ls=STYLES[regularizer], lw=1.2, label=f"{method}, {regularizer} KL")
                ax.fill_between(line["step"], line[f"{metric}_min"], line[f"{metric}_max"],
                                color=color, alpha=0.15, lw=0)
            if metric.startswith("kl_"):
                ax.set_yscale("symlog", linthresh=1e-3)
            ax.set(title=task if col == 0 else "", xlabel="training step", ylabel=label)
    axes[0].legend(fontsize="xx-small")
    fig.suptitle(f"β = {data['beta'].iloc[0]:g}; line: seed mean, band: seed range",
                 fontsize="small")
    return fig, summary


def final(data: pd.DataFrame):
    """Final policy per answer (seed mean, band: seed range) against the exact targets."""
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.4, height=3.0, columns=len(regularizers))
    rows = []
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        answers = list(dict.fromkeys(part["answer"].astype(str)))
        x = np.arange(len(answers))
        one_run = part[(part["seed"] == part["seed"].min())
                       & (part["method"] == part["method"].iloc[0])]
        reference = one_run["reference"].to_numpy()
        ax.plot(x, reference, color="grey", lw=0.8, marker=".", label="reference")
        for method, runs in part.groupby("method", sort=False):
            color = METHOD_COLORS[method]
            stats = runs.groupby("answer", sort=False)["policy"].agg(["mean", "min", "max"])
            target = runs[runs["seed"] == runs["seed"].min()]["target"].to_numpy()
            ax.plot(x, stats["mean"], color=color, marker=MARKERS[method], ms=3, lw=1.0,
                    label=f"{method}: trained")
            ax.fill_between(x, stats["min"], stats["max"], color=color, alpha=0.2, lw=0)
            ax.plot(x, target, color=color, ls=":", lw=1.4, label=f"{method}: exact target")
            rows.append(pd.DataFrame({"task": task, "regularizer": regularizer,
                                      "method": method, "answer": answers,
                                      "policy_mean": stats["mean"].to_numpy(),
                                      "policy_min": stats["min"].to_numpy(),
                                      "policy_max": stats["max"].to_numpy(),
                                      "target": target, "reference": reference}))
        step = max(1, len(answers) // 10)
        ax.set_xticks(x[::step], answers[::step], rotation=90 if step > 1 else 0,
                      fontsize="x-small")
        ax.set(title=f"{task}: {regularizer} KL", xlabel="answer", ylabel="probability")
        ax.legend(fontsize="xx-small")
    fig.suptitle(f"β = {data['beta'].iloc[0]:g}; line: seed mean, band: seed range",
                 fontsize="small")
    return fig, pd.concat(rows, ignore_index=True)


FIGURES = {
    "policy_gradient_pareto": pareto,
    "policy_gradient_curves": curves,
    "policy_gradient_final": final,
}
