"""Figures of the policy_gradient stage (paper C's "1 or 2" runs as a NumPy analogue).

Each function takes the stage's per-task tables stacked with a ``task`` column and returns
``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`). Unless a figure says otherwise
it shows the *main* runs: the policy kind and dynamics of the table's first row (the first
sweep of the config, which every task runs) at the shortest step budget; the other
dynamics, policies and budgets are in the summary table, the over-time and the entropy
figures.
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
ANALOGUE = "NumPy analogue (not an LLM)"


def _main(data: pd.DataFrame) -> pd.DataFrame:
    """Rows of the first row's policy and dynamics (every task runs them), at the shortest
    budget when the table has budgets."""
    first = data.iloc[0]
    main = data[(data["dynamics"] == first["dynamics"]) & (data["policy"] == first["policy"])]
    if "steps" in main:
        main = main[main["steps"] == main["steps"].min()]
    return main


def _pairs(data: pd.DataFrame) -> list[tuple[str, str]]:
    return list(data.groupby(["task", "regularizer"], sort=False).groups)


def _method_legend(fig, methods, extra=()):
    handles = [Line2D([], [], ls="", marker=MARKERS[m], color=METHOD_COLORS[m], label=m)
               for m in methods]
    fig.legend(handles=[*handles, *extra], loc="outside right center", fontsize="x-small")


def _offsets(count: int, width: float) -> np.ndarray:
    return (np.arange(count) - (count - 1) / 2) * width


def share(data: pd.DataFrame):
    """Fig. 6a analogue: each run's valid share of the *reference's favourite* answer, per β
    and method: 1 = collapsed onto the favourite, 0 = onto another answer (signed, so both
    collapses show). Black tick: the exact target's share of the favourite."""
    data = _main(data)
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.4, height=3.0, columns=len(regularizers))
    betas = sorted(data["beta"].unique())
    methods = [m for m in METHODS if m in set(data["method"])]
    width = 0.8 / len(methods)
    rows = []
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = data[(data["task"] == task) & (data["regularizer"] == regularizer)]
        for j, method in zip(range(len(methods)), methods, strict=True):
            runs = part[part["method"] == method]
            if runs.empty:
                continue
            centre = np.searchsorted(betas, runs["beta"]) + _offsets(len(methods), width)[j]
            seeds = runs["seed"].to_numpy()
            x = centre + width * 0.7 * (seeds / max(1, seeds.max()) - 0.5)
            ax.scatter(x, runs["favourite_share"], s=14, marker=MARKERS[method],
                       color=METHOD_COLORS[method], edgecolors="black", linewidths=0.3,
                       alpha=0.85)
            targets = runs.drop_duplicates("beta")
            tx = np.searchsorted(betas, targets["beta"]) + _offsets(len(methods), width)[j]
            ax.hlines(targets["target_favourite_share"], tx - width / 2, tx + width / 2,
                      color="black", lw=1.2)
            rows.append(runs)
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas], fontsize="x-small")
        validity = part["reference_validity"].iloc[0]
        favourite = part["reference_top_answer"].iloc[0]
        ax.set(title=f"{task}: {regularizer} KL\n(reference validity {validity:.2f})", xlabel="β",
               ylabel=f"valid share of {favourite!r} (the reference's favourite)",
               ylim=(-0.03, 1.03))
        ax.yaxis.label.set_fontsize("x-small")
        ax.title.set_fontsize("small")
    _method_legend(fig, methods, [Line2D([], [], color="black", label="exact target")])
    fig.suptitle(f"Share of the reference's favourite answer per run: 1 and 0 are both "
                 f"collapses ({ANALOGUE})", fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "top_answer", "favourite_share",
               "reference_top_answer", "target_favourite_share", "reference_validity"]
    return fig, pd.concat(rows, ignore_index=True)[columns]


def pareto(data: pd.DataFrame):
    """Fig. 6b analogue: mean reward against valid-answer entropy at every checkpoint after
    step 0. The y range is set by the checkpoints past the first tenth of the run (the
    first checkpoints of format learning would squash it); earlier, lower points sit on the
    bottom edge, and the reference's reward at step 0 is written in the panel."""
    data = _main(data)
    data = data[data["beta"].isin(_paper_betas(data))]
    regularizers = list(dict.fromkeys(data["regularizer"]))
    pairs = _pairs(data)
    fig, axes = panels(len(pairs), width=4.0, height=2.8, columns=len(regularizers))
    methods = [m for m in METHODS if m in set(data["method"])]
    trained = data[data["step"] > 0]
    for ax, (task, regularizer) in zip(axes, pairs, strict=False):
        part = trained[(trained["task"] == task) & (trained["regularizer"] == regularizer)]
        settled = part[part["step"] >= part["steps"] / 10]
        low = float(settled["mean_reward"].min())
        for method in methods:
            runs = part[part["method"] == method]
            ax.scatter(runs["valid_entropy_normalized"], runs["mean_reward"].clip(lower=low),
                       s=4, marker=MARKERS[method], color=METHOD_COLORS[method], alpha=0.35,
                       linewidths=0)
        start = data[(data["task"] == task) & (data["regularizer"] == regularizer)
                     & (data["step"] == 0)]
        ax.set(title=f"{task}: {regularizer} KL", xlabel=ENTROPY_LABEL, ylabel="mean reward",
               xlim=(-0.03, 1.03), ylim=(low - 0.05 * (1.0 - low) - 1e-3, 1.0 + 0.02 * (1 - low)
                                         + 1e-3))
        if len(start):
            ax.annotate(f"step 0 (reference): reward {start['mean_reward'].iloc[0]:.2f}",
                        (0.02, 0.03), xycoords="axes fraction", fontsize="xx-small")
        ax.title.set_fontsize("small")
    _method_legend(fig, methods)
    betas = ", ".join(f"{b:g}" for b in sorted(data["beta"].unique()))
    fig.suptitle(f"Every checkpoint after step 0, β ∈ {{{betas}}}\n(range: checkpoints past "
                 f"a tenth of the run; lower ones on the bottom edge) ({ANALOGUE})",
                 fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "step",
               "valid_entropy_normalized", "mean_reward"]
    return fig, data[columns]


def _paper_betas(data: pd.DataFrame) -> list[float]:
    """The paper's βs (the table's ``paper_beta`` rows: the config's ``claim_betas``)."""
    return sorted(data.loc[data["paper_beta"], "beta"].unique())


def final(data: pd.DataFrame, beta: float | None = None):
    """Final policy per answer (seed mean, band: seed range) beside the exact targets, at
    ``beta`` (default: the smallest β of the table), the main runs."""
    first = data.iloc[0]
    data = data[(data["dynamics"] == first["dynamics"]) & (data["policy"] == first["policy"])]
    data = data[data["steps"] == data["steps"].min()]
    beta = float(data["beta"].min()) if beta is None else float(beta)
    data = data[np.isclose(data["beta"], beta)]
    if data.empty:
        raise ValueError(f"no final distribution at β = {beta:g}")
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
            stats = runs.groupby("answer", sort=False)["trained"].agg(["mean", "min", "max"])
            one = runs[runs["seed"] == runs["seed"].min()]
            ax.plot(x, stats["mean"], color=color, marker=MARKERS[method], ms=3, lw=1.0)
            ax.fill_between(x, stats["min"], stats["max"], color=color, alpha=0.2, lw=0)
            ax.plot(x, one["target"], color=color, ls=":", lw=1.4)
            rows.append(pd.DataFrame({"task": task, "regularizer": regularizer,
                                      "method": method, "beta": beta, "answer": answers,
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
    fig.suptitle(f"β = {beta:g}; line: seed mean, band: seed range; dotted: exact target "
                 f"({ANALOGUE})", fontsize="small")
    return fig, pd.concat(rows, ignore_index=True)


def gap(data: pd.DataFrame):
    """Collapse against the target: each run's valid share of its *target's* top answer (y)
    against the target's own (x). On the diagonal the run reached its target; above it, it
    collapsed further onto that answer; near 0, it collapsed onto another answer."""
    data = _main(data)
    cells = list(data.groupby(["regularizer", "method"], sort=False).groups)
    fig, axes = panels(len(cells), width=3.4, height=3.2, columns=4)
    betas = sorted(data["beta"].unique())
    colors = dict(zip(betas, sns.color_palette("viridis", len(betas)), strict=True))
    for ax, (regularizer, method) in zip(axes, cells, strict=False):
        part = data[(data["regularizer"] == regularizer) & (data["method"] == method)]
        for beta, runs in part.groupby("beta"):
            ax.scatter(runs["target_top_mode_share"], runs["target_top_share"], s=10,
                       color=colors[beta], alpha=0.7, edgecolors="black", linewidths=0.2)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set(title=f"{method}, {regularizer} KL", xlabel="exact target's top share",
               ylabel="run's share of the target's top answer", xlim=(0, 1.02),
               ylim=(-0.02, 1.02))
        ax.yaxis.label.set_fontsize("x-small")
        ax.title.set_fontsize("small")
    fig.legend(handles=[Line2D([], [], ls="", marker="o", color=colors[b], label=f"β = {b:g}")
                        for b in betas], loc="outside right center", fontsize="x-small")
    fig.suptitle(f"Above the diagonal: more collapsed than the target onto its answer; near 0: "
                 f"collapsed onto another; all tasks ({ANALOGUE})", fontsize="small")
    columns = ["task", "regularizer", "method", "beta", "seed", "target_top_mode_share",
               "target_top_share"]
    return fig, data[columns]


def over_time(data: pd.DataFrame):
    """The collapsed fraction of the runs against the step, per β (colour), for each cell
    (task, policy, dynamics, KL, method) trained to the longest step count of the table
    (``collapsed`` as the stage judged each checkpoint)."""
    longest = data["steps"].max()
    threshold = data["collapse_share"].iloc[0]
    data = data[data["steps"] == longest]
    keys = ["task", "policy", "dynamics", "regularizer", "method"]
    cells = list(data.groupby(keys, sort=False).groups)
    fig, axes = panels(len(cells), width=3.4, height=2.6, columns=4)
    betas = sorted(data["beta"].unique())
    colors = dict(zip(betas, sns.color_palette("viridis", len(betas)), strict=True))
    fraction = data.groupby([*keys, "beta", "step"], sort=False).agg(
        collapsed=("collapsed", "mean"), valid_entropy_normalized=("valid_entropy_normalized",
                                                                   "mean"),
        kl_target=("kl_target", "mean"), runs=("seed", "size")).reset_index()
    for ax, cell in zip(axes, cells, strict=False):
        part = fraction[(fraction[keys] == pd.Series(cell, index=keys)).all(axis=1)]
        for beta, line in part.groupby("beta"):
            ax.plot(line["step"].clip(lower=1), line["collapsed"], color=colors[beta], lw=1.2)
        task, policy, dynamics, regularizer, method = cell
        ax.set(title=f"{task}\n{policy}, {dynamics}, {regularizer} KL, {method}", xscale="log",
               xlabel="step", ylabel="collapsed fraction", ylim=(-0.03, 1.03))
        ax.title.set_fontsize("x-small")
    fig.legend(handles=[Line2D([], [], color=colors[b], label=f"β = {b:g}") for b in betas],
               loc="outside right center", fontsize="x-small")
    fig.suptitle(f"Collapsed fraction over {longest} steps (top answer >= {threshold:g} of the "
                 f"valid mass; step 0 drawn at 1) ({ANALOGUE})", fontsize="small")
    return fig, fraction


def entropy(data: pd.DataFrame):
    """Histogram of the valid-answer entropy (÷ ``log |V|``) of the final runs at the paper's βs,
    per KL and method, all tasks, policies and dynamics at the shortest budget (paper C's
    Fig. 6a measure); dashed: the near-uniform threshold of the ledger rows."""
    data = data[data["steps"] == data["steps"].min()]
    data = data[data["beta"].isin(_paper_betas(data))]
    cells = list(data.groupby(["regularizer", "method"], sort=False).groups)
    fig, axes = panels(len(cells), width=3.4, height=2.6, columns=4)
    bins = np.linspace(0, 1, 21)
    rows = []
    for ax, (regularizer, method) in zip(axes, cells, strict=False):
        part = data[(data["regularizer"] == regularizer) & (data["method"] == method)]
        counts, _ = np.histogram(part["valid_entropy_normalized"].clip(0, 1), bins=bins)
        ax.bar(bins[:-1], counts, width=np.diff(bins), align="edge",
               color=METHOD_COLORS[method], edgecolor="black", linewidth=0.3)
        threshold = part["near_uniform_threshold"].iloc[0]
        ax.axvline(threshold, color="black", lw=0.8, ls="--")
        ax.set(title=f"{method}, {regularizer} KL ({len(part)} runs)", xlabel=ENTROPY_LABEL,
               ylabel="runs")
        ax.xaxis.label.set_fontsize("x-small")
        ax.title.set_fontsize("small")
        rows.append(pd.DataFrame({"regularizer": regularizer, "method": method,
                                  "bin_low": bins[:-1], "bin_high": bins[1:], "runs": counts,
                                  "near_uniform_runs": int(part["near_uniform"].sum()),
                                  "near_uniform_threshold": threshold}))
    fig.suptitle(f"Valid-answer entropy of the final runs at β ∈ "
                 f"{{{', '.join(f'{b:g}' for b in _paper_betas(data))}}}, every task, policy "
                 f"and dynamics ({ANALOGUE})", fontsize="small")
    return fig, pd.concat(rows, ignore_index=True)


FIGURES = {
    "policy_gradient_share": share,
    "policy_gradient_pareto": pareto,
    "policy_gradient_final": final,
    "policy_gradient_gap": gap,
    "policy_gradient_over_time": over_time,
    "policy_gradient_entropy": entropy,
}
