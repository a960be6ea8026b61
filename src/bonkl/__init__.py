"""bonkl: best-of-n, KL-constrained and KL-regularised alignment theory, computed exactly.

The public mathematics, imported as ``from bonkl import bestofn`` or ``import bonkl.tilt``:

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
- :mod:`bonkl.references`: the study's reference families and users' sample files.

The rest is laid out by role: :mod:`bonkl.rl` (sampled RL), :mod:`bonkl.study` (one module
per pipeline stage), :mod:`bonkl.plots` (one module per stage), :mod:`bonkl.plumbing`
(tables, files, seeding, logging), :mod:`bonkl.pipeline` (config checks and rule
dependencies) and :mod:`bonkl.cli` (the ``bonkl`` command). The layers are an
import-linter contract in ``pyproject.toml``.
"""

__version__ = "0.1.0"
__all__ = [
    "bestofn", "collapse", "divergence", "groups", "logspace", "mara", "memoryless",
    "references", "rewind", "tilt", "tradeoff",
]
