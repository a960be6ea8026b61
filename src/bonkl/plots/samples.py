"""Figures of the samples stage: paper A's Fig. 4 for a sampling run, KL against n per prompt
beside the formula ``log n - (n-1)/n``.

:func:`estimates_by_prompt` (the stage's figure) takes the table of
:func:`bonkl.study.samples.estimate`: every estimator with its interval and, when the file was
drawn from a known-law model, the exact KL.
``bonkl analyze --figure`` draws it too. It takes any label column the figure rule adds and
returns ``(figure, plotted_data)`` (:mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from bonkl import bestofn
from bonkl.plots.bestofn import KL_LABEL, N_LABEL
from bonkl.plots.style import panels

MAX_LINES = 8  # prompts drawn one by one; beyond, a sample of them and quantile bands
QUANTILES = (0.1, 0.5, 0.9)  # the band drawn over all prompts and its middle line


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
