"""bonkl: best-of-n, KL-constrained and KL-regularised alignment theory, computed exactly.

Public modules: :mod:`bonkl.bestofn` (best-of-n pmf, KL, estimator, sampling),
:mod:`bonkl.references` (the study's reference families and user sample files).
"""

__version__ = "0.1.0"
