"""Figures of the samples stage: paper A's Fig. 4 for a sampling run, KL against n per prompt
beside the formula ``log n - (n-1)/n``.

:func:`estimates_by_prompt` (the stage's figure) takes the table of
:func:`bonkl.study.samples.estimate`: every estimator with its interval and, when the file was
drawn from a known-law model, the exact KL. :func:`kl_by_prompt` draws the exact table of
:func:`bonkl.study.samples.per_prompt` (``bonkl analyze --figure``). Both take any label
column the figure rule adds and return ``(figure, plotted_data)`` (:mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from bonkl import bestofn
from bonkl.plots.bestofn import KL_LABEL, N_LABEL
from bonkl.plots.style import panels

MAX_LINES = 8  # prompts drawn one by one; beyond, a sample of them and quantile bands
QUANTILES = (0.1, 0.5, 0.9)  # the band drawn over all prompts and its middle line


def _shown_prompts(table: pd.DataFrame) -> list[str]:
    """Every prompt when there are few; else ``MAX_LINES`` prompts spread evenly over the
    entropy ranks (the lowest and the highest entropy included)."""
    prompts = table.drop_duplicates("prompt").sort_values("entropy", kind="stable")["prompt"]
    if prompts.size <= MAX_LINES:
        return list(table["prompt"].unique())
    picks = np.unique(np.rint(np.linspace(0, prompts.size - 1, MAX_LINES)).astype(int))
    return list(prompts.iloc[picks])


def _label(prompt: str, entropy: float) -> str:
    short = prompt if len(prompt) <= 40 else prompt[:39] + "…"
    return f"{short!r} (H = {entropy:.2g} nats)"


def _draw(ax, data: pd.DataFrame) -> pd.DataFrame:
    """One panel: the formula, the shown prompts and, with many prompts, the quantile band."""
    n = np.sort(data["n"].unique())
    ax.plot(n, bestofn.kl_formula(n), color="black", lw=1.4, ls=":", label="log n − (n−1)/n")
    shown = _shown_prompts(data)
    plotted = [pd.DataFrame({"series": "formula", "prompt": "", "n": n,
                             "kl": bestofn.kl_formula(n)})]
    if data["prompt"].nunique() > len(shown):
        band = data.groupby("n")["kl"].quantile(list(QUANTILES)).unstack().loc[n]
        ax.fill_between(n, band[QUANTILES[0]], band[QUANTILES[-1]], color="grey", alpha=0.25,
                        label=f"{QUANTILES[0]:.0%}–{QUANTILES[-1]:.0%} of "
                              f"{data['prompt'].nunique()} prompts")
        ax.plot(n, band[0.5], color="black", lw=1.2, ls="--", label="median over prompts")
        plotted += [pd.DataFrame({"series": f"quantile {q:g}", "prompt": "", "n": n,
                                  "kl": band[q].to_numpy()}) for q in QUANTILES]
    palette = sns.color_palette("colorblind", len(shown))
    for color, prompt in zip(palette, shown, strict=True):
        rows = data[data["prompt"] == prompt]
        ax.plot(rows["n"], rows["kl"], color=color, lw=1.4, marker="o", ms=2.5,
                label=_label(prompt, rows["entropy"].iloc[0]))
        plotted.append(rows[["prompt", "n", "kl"]].assign(series="prompt"))
    ax.set(xscale="log", xlabel=N_LABEL, ylabel=KL_LABEL)
    ax.legend(fontsize="xx-small", loc="upper left")
    return pd.concat(plotted, ignore_index=True)[["series", "prompt", "n", "kl"]]


def kl_by_prompt(data: pd.DataFrame):
    """Exact KL vs n per prompt with the formula; with many prompts, a sample of them over
    the median and the 10-90% band of all prompts (paper A, Fig. 4). One panel per value of
    a ``reward`` label column when there is one."""
    if "reward" not in data:
        fig, ax = plt.subplots(figsize=(6.8, 4.6), layout="constrained")
        return fig, _draw(ax, data)
    groups = list(data.groupby("reward", sort=False))
    fig, axes = panels(len(groups), width=4.6, height=3.8)
    plotted = []
    for ax, (reward, table) in zip(axes, groups, strict=False):
        plotted.append(_draw(ax, table).assign(reward=reward))
        ax.set_title(f"reward: {reward}")
    return fig, pd.concat(plotted, ignore_index=True)


MAX_PANELS = 4  # prompts drawn per reward (the first ones of the file)


def estimates_by_prompt(data: pd.DataFrame):
    """One panel per (reward, prompt): each estimator's KL with its interval against n, the
    exact KL when the table has it, and the formula (paper A, Fig. 4, with truth)."""
    if "reward" not in data:
        data = data.assign(reward="reward")
    rewards = list(dict.fromkeys(data["reward"]))
    prompts = list(dict.fromkeys(data["prompt"]))[:MAX_PANELS]
    fig, axes = panels(len(rewards) * len(prompts), width=3.9, height=3.2,
                       columns=len(prompts))
    estimators = list(dict.fromkeys(data["estimator"]))
    palette = dict(zip(estimators, sns.color_palette("colorblind", len(estimators)),
                       strict=True))
    plotted = []
    for ax, (reward, prompt) in zip(axes, [(r, q) for r in rewards for q in prompts],
                                    strict=False):
        rows = data[(data["reward"] == reward) & (data["prompt"] == prompt)]
        n = np.sort(rows["n"].unique())
        ax.plot(n, bestofn.kl_formula(n), color="black", lw=1.2, ls=":",
                label="log n − (n−1)/n")
        plotted.append(pd.DataFrame({"reward": reward, "prompt": prompt, "series": "formula",
                                     "n": n, "kl": bestofn.kl_formula(n),
                                     "low": bestofn.kl_formula(n), "high": bestofn.kl_formula(n)}))
        if "exact_kl" in rows:
            exact = rows.drop_duplicates("n").sort_values("n")
            ax.plot(exact["n"], exact["exact_kl"], color="black", lw=1.6, label="exact KL")
            plotted.append(pd.DataFrame({"reward": reward, "prompt": prompt, "series": "exact",
                                         "n": exact["n"], "kl": exact["exact_kl"],
                                         "low": exact["exact_kl"], "high": exact["exact_kl"]}))
        for k, (estimator, line) in enumerate(rows.groupby("estimator", sort=False)):
            line = line[line["kl"].notna()].sort_values("n")  # a u-statistic is undefined at n >= N
            shift = 1.0 + 0.06 * (k - (len(estimators) - 1) / 2)  # side by side on a log axis
            ax.errorbar(line["n"] * shift, line["kl"],
                        yerr=[(line["kl"] - line["kl_low"]).clip(lower=0),
                              (line["kl_high"] - line["kl"]).clip(lower=0)],
                        color=palette[estimator], marker="o", ms=3, lw=0, elinewidth=1.2,
                        capsize=2, label=f"{estimator} (95% interval)")
            plotted.append(pd.DataFrame({"reward": reward, "prompt": prompt,
                                         "series": estimator, "n": line["n"],
                                         "kl": line["kl"], "low": line["kl_low"],
                                         "high": line["kl_high"]}))
        short = prompt if len(prompt) <= 34 else prompt[:33] + "…"
        ax.set(xscale="log", xlabel=N_LABEL, ylabel=KL_LABEL, title=f"{short}\nreward: {reward}")
        ax.title.set_fontsize("small")
        ax.legend(fontsize="xx-small", loc="upper left")
    return fig, pd.concat(plotted, ignore_index=True)


FIGURES = {"samples_kl": estimates_by_prompt}
