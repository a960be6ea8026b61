"""Stage figures: draw each of a stage's figures, ``FIGURES[name]`` of its plots module, from
its tables, with its plotting options; PNG, PDF and the plotted data as CSV."""

from importlib import import_module

from bonkl.plots.style import save_figure, set_style
from bonkl.plumbing.runlog import run
from bonkl.plumbing.tables import read_labelled


def main(sm, log):
    set_style()
    for name, spec in sm.params.figures.items():
        data = read_labelled(list(spec["tables"].values()), list(spec["tables"]), spec["column"])
        draw = import_module(spec["plots"]).FIGURES[name]
        fig, plotted = draw(data, **spec["options"])
        save_figure(fig, plotted, sm.output[f"{name}_png"], sm.output[f"{name}_pdf"],
                    sm.output[f"{name}_csv"])
        log.info("%s: %d rows plotted", name, len(plotted))


run(snakemake, main)  # noqa: F821
