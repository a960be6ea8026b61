"""bonkl: best-of-n, KL-constrained and KL-regularised alignment theory, computed exactly.

The public mathematics, reached as ``import bonkl; bonkl.bestofn.kl(...)``,
``from bonkl import bestofn`` or ``import bonkl.tilt``:

- :mod:`bonkl.bestofn`: best-of-n pmf, exact KL, the formula, the estimator, win rate,
  sampling (paper A);
- :mod:`bonkl.tilt`: exponential tilts: the KL-constrained optimum (paper B) and the
  reverse/forward-KL regularised targets (paper C);
- :mod:`bonkl.memoryless`: best-of-N against the tilted optimum for length-m sequences
  of a memoryless model (paper B);
- :mod:`bonkl.mara`: MARA's augmented rewards and exact targets (paper C);
- :mod:`bonkl.collapse`: probability ratios and mode-switch β (paper C, §4);
- :mod:`bonkl.rewind`: rewind-and-repeat (paper A, §6);
- :mod:`bonkl.tradeoff`: win-rate/KL trade-off curves (paper A, §7);
- :mod:`bonkl.logspace`, :mod:`bonkl.divergence`, :mod:`bonkl.groups`: the log-space
  helpers, KL from logs, and reward tie groups they share;
- :mod:`bonkl.references`: the study's reference families and users' sample files;
- :mod:`bonkl.sampled`: best-of-n's KL and win rate from a model's sampled candidates, with
  intervals (exact when a prompt's file enumerates its support; paper A, ours);
- :mod:`bonkl.reward_laws`: sequence models whose reward law is known exactly, the ground
  truth of :mod:`bonkl.sampled`'s estimators.

The rest is laid out by role: :mod:`bonkl.rl` (sampled RL), :mod:`bonkl.study` (one module
per pipeline stage), :mod:`bonkl.plots` (one module per stage), :mod:`bonkl.plumbing`
(tables, files, seeding, logging), :mod:`bonkl.pipeline` (config checks and rule
dependencies) and :mod:`bonkl.cli` (the ``bonkl`` command). The layers are an
import-linter contract in ``pyproject.toml``.

The public modules load on first use (:pep:`562`), so ``import bonkl`` costs about a
millisecond and pulls in neither SciPy nor pandas. This matters beyond speed: Snakemake
imports :mod:`bonkl.pipeline` at parse time (which runs this file), and
:mod:`bonkl.pipeline.code_deps` follows this file's static imports, so eager imports here
would make every pipeline script depend on every public module.

Papers: A, Beirami et al., `arXiv:2401.01879 <https://arxiv.org/abs/2401.01879>`__;
B, Yang et al., `arXiv:2404.01730 <https://arxiv.org/abs/2404.01730>`__;
C, GX-Chen et al., `arXiv:2510.20817 <https://arxiv.org/abs/2510.20817>`__.

Examples
--------
>>> import bonkl
>>> round(bonkl.bestofn.kl([0.5, 0.5], [0.0, 1.0], 2), 6)  # log 2 - h(1/4)
0.130812
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = [
    "bestofn", "collapse", "divergence", "groups", "logspace", "mara", "memoryless",
    "references", "reward_laws", "rewind", "sampled", "tilt", "tradeoff",
]


def __getattr__(name: str):
    """Import a public module on first access: ``bonkl.bestofn`` after ``import bonkl``."""
    if name in __all__:
        import importlib  # here, not at the top: import bonkl itself stays ~1 ms

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public modules beside the package's own names."""
    return sorted(set(globals()) | set(__all__))
