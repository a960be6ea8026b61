"""Stage figures: draw one figure (``params.figure``, a key of ``bonkl.plots.FIGURES``)."""

import pandas as pd

from bonkl.plots import FIGURES, save_figure, set_style
from bonkl.runlog import run
from bonkl.tables import read_table


def main(sm, log):
    data = pd.concat(
        [read_table(path).assign(reference=name)
         for name, path in zip(sm.params.references, sm.input.tables, strict=True)],
        ignore_index=True,
    )
    set_style()
    fig, plotted = FIGURES[sm.params.figure](data)
    save_figure(fig, plotted, sm.output.png, sm.output.pdf, sm.output.csv)
    log.info("%s: %d rows plotted", sm.params.figure, len(plotted))


run(snakemake, main)  # noqa: F821
