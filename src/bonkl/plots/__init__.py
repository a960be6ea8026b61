"""The study's figures: one module per stage, each a ``FIGURES`` dict of functions over tidy
tables, and :mod:`bonkl.plots.style` for the shared theme and byte-stable saving."""
