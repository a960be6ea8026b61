"""Figure of the estimators stage: the sampled estimators' error against n, per known-law model.

Functions take the stage's table (:func:`bonkl.study.estimators.evaluate`, with any label
column the figure rule adds) and return ``(figure, plotted_data)`` (:mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullFormatter

from bonkl.plots.bestofn import N_LABEL
from bonkl.plots.style import panels


def accuracy(data: pd.DataFrame):
    """Per model: RMSE of each estimator over prompts (nats) against n, one line per
    (estimator, N), with the goal max(0.05, 5% of the exact KL) dashed."""
    models = list(dict.fromkeys(data["model"]))
    fig, axes = panels(len(models), width=4.2, height=3.4)
    estimators = list(dict.fromkeys(data["estimator"]))
    sizes = sorted(data["candidates"].unique())
    palette = dict(zip(estimators, sns.color_palette("colorblind", len(estimators)),
                       strict=True))
    styles = dict(zip(sizes, ["-", "--", ":", "-."] * len(sizes), strict=False))
    plotted = []
    for ax, model in zip(axes, models, strict=False):
        rows = data[data["model"] == model]
        for (estimator, size), line in rows.groupby(["estimator", "candidates"], sort=False):
            line = line.sort_values("n")
            ax.plot(line["n"], np.maximum(line["rmse"], 1e-6), color=palette[estimator],
                    ls=styles[size], marker="o", ms=2.5, label=f"{estimator}, N = {size}")
            plotted.append(line[["model", "estimator", "candidates", "n", "rmse"]]
                           .assign(series="rmse"))
        goal = rows.drop_duplicates("n").sort_values("n")
        ax.plot(goal["n"], np.maximum(0.05, 0.05 * goal["exact_kl"]), color="black", lw=1,
                ls="--", label="max(0.05, 5% of KL)")
        ax.set(xscale="log", yscale="log", xlabel=N_LABEL, ylabel="RMSE over prompts (nats)",
               title=model)
        ax.set_xticks(goal["n"].to_numpy(), [str(v) for v in goal["n"]])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.legend(fontsize="xx-small")
    return fig, pd.concat(plotted, ignore_index=True)


FIGURES = {"estimators_accuracy": accuracy}
