"""Figures of the policy_gradient stage (paper C's "1 or 2" runs as a tabular analogue).

Each function takes the stage's per-task tables stacked with a ``task`` column and returns
``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`). Runs of the first dynamics only
(the one every task runs); the other dynamics are in the summary table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from bonkl.plots.style import panels

METHODS = ["vanilla", "algorithm_1", "algorithm_2", "algorithm_1_lambda"]
METHOD_COLORS = dict(zip(METHODS, sns.color_palette("colorblind", len(METHODS)), strict=True))
MARKERS = dict(zip(METHODS, ["o", "^", "s", "D"], strict=True))
ENTROPY_LABEL = "valid-answer entropy / log |V| (1 = uniform)"
ANALOGUE = "tabular analogue (not an LLM)"


def _main(data: pd.DataFrame) -> pd.DataFrame:
    """Rows of the first dynamics listed (every task runs it)."""
    return data[data["dynamics"] == data["dynamics"].iloc[0]]


def _pairs(data: pd.DataFrame) -> list[tuple[str, str]]:
    return list(data.groupby(["task", "regularizer"], sort=False).groups)


def _method_legend(fig, methods, extra=()):
    handles = [Line2D([], [], ls="", marker=MARKERS[m], color=METHOD_COLORS[m], label=m)
               for m in methods]
    fig.legend(handles=[*handles, *extra], loc="outside right center", fontsize="x-small")


def share(data: pd.DataFrame):
    """Fig. 6a analogue: each run's top-answer share of the valid mass, per β and method.

    Filled: the top answer is the reference's favourite; hollow: another answer. Black
    tick: the exact target's top share.
    """
    data = _main(data)
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.4, height=3.0, columns=len(regularizers))
    betas = sorted(data["beta"].unique())
    methods = [m for m in METHODS if m in set(data["method"])]
    width = 0.8 / len(methods)
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        for j, method in enumerate(methods):
            runs = part[part["method"] == method]
            if runs.empty:
                continue
            centre = np.searchsorted(betas, runs["beta"]) + (j - (len(methods) - 1) / 2) * width
            seeds = runs["seed"].to_numpy()
            x = centre + width * 0.6 * (seeds / max(1, seeds.max()) - 0.5)
            favourite = (runs["top_answer"] == runs["reference_top_answer"]).to_numpy()
            color = METHOD_COLORS[method]
            ax.scatter(x[favourite], runs["top_mode_share"].to_numpy()[favourite], s=10,
                       marker=MARKERS[method], color=color, linewidths=0)
            ax.scatter(x[~favourite], runs["top_mode_share"].to_numpy()[~favourite], s=10,
                       marker=MARKERS[method], facecolors="none", edgecolors=color,
                       linewidths=0.7)
            targets = runs.drop_duplicates("beta")
            tx = np.searchsorted(betas, targets["beta"]) + (j - (len(methods) - 1) / 2) * width
            ax.hlines(targets["target_top_mode_share"], tx - width / 2, tx + width / 2,
                      color="black", lw=1.0)
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas], fontsize="x-small")
        validity = part["reference_validity"].iloc[0]
        ax.set(title=f"{task}: {regularizer} KL\n(reference validity {validity:.2f})", xlabel="β",
               ylabel="top answer's valid share", ylim=(0, 1.03))
        ax.title.set_fontsize("small")
    _method_legend(fig, methods, [
        Line2D([], [], ls="", marker="o", markerfacecolor="none", color="grey",
               label="top ≠ reference's favourite"),
        Line2D([], [], color="black", label="exact target")])
    fig.suptitle(f"Final top-answer share per run ({ANALOGUE})", fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "top_answer", "top_mode_share",
               "reference_top_answer", "target_top_mode_share", "reference_validity"]
    return fig, data[columns]


def pareto(data: pd.DataFrame):
    """Fig. 6b analogue: mean reward against valid-answer entropy at every checkpoint."""
    data = _main(data)
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.0, height=2.8, columns=len(regularizers))
    methods = [m for m in METHODS if m in set(data["method"])]
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        for method in methods:
            runs = part[part["method"] == method]
            ax.scatter(runs["valid_entropy_normalized"], runs["mean_reward"], s=4,
                       marker=MARKERS[method], color=METHOD_COLORS[method], alpha=0.35,
                       linewidths=0)
        ax.set(title=f"{task}: {regularizer} KL", xlabel=ENTROPY_LABEL, ylabel="mean reward",
               xlim=(-0.03, 1.03))
        ax.title.set_fontsize("small")
    _method_legend(fig, methods)
    betas = ", ".join(f"{b:g}" for b in sorted(data["beta"].unique()))
    fig.suptitle(f"Every checkpoint of every run, β ∈ {{{betas}}} ({ANALOGUE})",
                 fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "step",
               "valid_entropy_normalized", "mean_reward"]
    return fig, data[columns]


def final(data: pd.DataFrame):
    """Final policy per answer (seed mean, band: seed range) beside the exact targets."""
    data = _main(data)
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.4, height=2.8, columns=len(regularizers))
    rows = []
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        answers = list(dict.fromkeys(part["answer"].astype(str)))
        x = np.arange(len(answers))
        for method in [m for m in METHODS if m in set(part["method"])]:
            runs = part[part["method"] == method]
            color = METHOD_COLORS[method]
            stats = runs.groupby("answer", sort=False)["policy"].agg(["mean", "min", "max"])
            one = runs[runs["seed"] == runs["seed"].min()]
            ax.plot(x, stats["mean"], color=color, marker=MARKERS[method], ms=3, lw=1.0)
            ax.fill_between(x, stats["min"], stats["max"], color=color, alpha=0.2, lw=0)
            ax.plot(x, one["target"], color=color, ls=":", lw=1.4)
            rows.append(pd.DataFrame({"task": task, "regularizer": regularizer,
                                      "method": method, "answer": answers,
                                      "policy_mean": stats["mean"].to_numpy(),
                                      "policy_min": stats["min"].to_numpy(),
                                      "policy_max": stats["max"].to_numpy(),
                                      "target": one["target"].to_numpy(),
                                      "reference": one["reference"].to_numpy()}))
        ax.plot(x, rows[-1]["reference"], color="grey", lw=0.8, marker=".")
        step = max(1, len(answers) // 10)
        ax.set_xticks(x[::step], answers[::step], rotation=90 if step > 1 else 0,
                      fontsize="x-small")
        ax.set(title=f"{task}: {regularizer} KL", xlabel="answer", ylabel="probability")
        ax.title.set_fontsize("small")
    _method_legend(fig, [m for m in METHODS if m in set(data["method"])], [
        Line2D([], [], color="black", ls=":", label="exact target"),
        Line2D([], [], color="grey", marker=".", label="reference")])
    fig.suptitle(f"β = {data['beta'].iloc[0]:g}; line: seed mean, band: seed range; dotted: "
                 f"exact target ({ANALOGUE})", fontsize="small")
    return fig, pd.concat(rows, ignore_index=True)


def gap(data: pd.DataFrame):
    """Collapse against the target: each run's top share over its exact target's."""
    data = _main(data)
    cells = list(data.groupby(["regularizer", "method"], sort=False).groups)
    fig, axes = panels(len(cells), width=3.4, height=3.2, columns=4)
    betas = sorted(data["beta"].unique())
    colors = dict(zip(betas, sns.color_palette("viridis", len(betas)), strict=True))
    for ax, (regularizer, method) in zip(axes, cells, strict=False):
        part = data[(data["regularizer"] == regularizer) & (data["method"] == method)]
        for beta, runs in part.groupby("beta"):
            ax.scatter(runs["target_top_mode_share"], runs["top_mode_share"], s=8,
                       color=colors[beta], alpha=0.7, linewidths=0)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set(title=f"{method}, {regularizer} KL", xlabel="exact target's top share",
               ylabel="run's top share", xlim=(0, 1.02), ylim=(0, 1.02))
        ax.title.set_fontsize("small")
    fig.legend(handles=[Line2D([], [], ls="", marker="o", color=colors[b], label=f"β = {b:g}")
                        for b in betas], loc="outside right center", fontsize="x-small")
    fig.suptitle(f"Above the diagonal: the run is more collapsed than its target; all tasks "
                 f"({ANALOGUE})", fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "target_top_mode_share",
               "top_mode_share"]
    return fig, data[columns]


FIGURES = {
    "policy_gradient_share": share,
    "policy_gradient_pareto": pareto,
    "policy_gradient_final": final,
    "policy_gradient_gap": gap,
}
