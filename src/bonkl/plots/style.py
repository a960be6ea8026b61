"""The study's figure conventions: one seaborn theme, panel grids, and byte-stable saving.

Each stage's figures live in a module ``bonkl.plots.<stage>`` whose ``FIGURES`` dict maps figure
names to functions ``f(data) -> (figure, plotted_data)``, where ``data`` is the stage's
tables concatenated with a label column (see ``workflow/rules/figures.smk``). The plotted
data is written beside the figure as CSV. PNG and PDF carry no date or software version.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from bonkl.plumbing.tables import write_table  # noqa: E402


def set_style() -> None:
    """The study's one theme."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    plt.rcParams.update({"figure.dpi": 150, "savefig.dpi": 150, "pdf.fonttype": 42,
                         "svg.hashsalt": "bonkl", "axes.titlesize": "medium"})


def save_figure(fig, data: pd.DataFrame, png: str | Path, pdf: str | Path, csv: str | Path) -> None:
    """Write the figure as PNG and PDF (no dates, no versions) and its data as CSV."""
    write_table(data, csv)
    fig.savefig(png, metadata={"Software": None})
    fig.savefig(pdf, metadata={"Creator": None, "Producer": None, "CreationDate": None})
    plt.close(fig)


def panels(count: int, width: float = 3.6, height: float = 3.0, columns: int = 3):
    """A figure with ``count`` axes in rows of ``columns`` (spare axes hidden), and the axes."""
    columns = min(columns, count)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows),
                             squeeze=False, layout="constrained")
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes.flat


SYNTHETIC = {"lm_samples"}  # references whose data are synthetic (config/samples/)


def reference_title(ax, name: str, title: str | None = None) -> None:
    """Title a reference's panel; the title of a panel of synthetic data says so, where no
    legend or curve can hide it."""
    title = title or name
    ax.set_title(f"{title}\n(synthetic data, not an LLM's)" if name in SYNTHETIC else title)
