"""Stage figures: draw one figure, ``FIGURES[params.figure]`` of the module ``params.plots``."""

from importlib import import_module

from bonkl.plots.style import save_figure, set_style
from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled


def main(sm, log):
    data = read_labelled(sm.input.tables, sm.params.labels, sm.params.column)
    draw = import_module(sm.params.plots).FIGURES[sm.params.figure]
    set_style()
    fig, plotted = draw(data)
    save_figure(fig, plotted, sm.output.png, sm.output.pdf, sm.output.csv)
    log.info("%s: %d rows plotted", sm.params.figure, len(plotted))


run(snakemake, main)  # noqa: F821
