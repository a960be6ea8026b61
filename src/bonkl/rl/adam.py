"""Adam (Kingma & Ba 2015, Algorithm 1) with its default moments, as a stateful step.

``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``, update ``η·m̂/(√v̂ + ε)`` with the bias
corrections ``m̂ = m/(1−β₁ᵗ)``, ``v̂ = v/(1−β₂ᵗ)``; ``β₁ = 0.9``, ``β₂ = 0.999``,
``ε = 1e-8``. No randomness: the same gradients give the same updates, bit for bit.
"""

from __future__ import annotations

import numpy as np


class Adam:
    """Adam for a parameter array of ``shape``; :meth:`update` gives the step to subtract.

    ``learning_rate`` may be an array broadcasting against ``shape`` (one rate per run).
    """

    decay1, decay2, eps = 0.9, 0.999, 1e-8

    def __init__(self, shape, learning_rate: float):
        if not np.all(np.asarray(learning_rate) > 0):
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        self.learning_rate = np.asarray(learning_rate, dtype=float)
        self.first = np.zeros(shape)
        self.second = np.zeros(shape)
        self.count = 0

    def update(self, grad: np.ndarray) -> np.ndarray:
        """The step ``η·m̂/(√v̂ + ε)`` for gradient ``grad`` (of a loss to minimise)."""
        self.count += 1
        self.first = self.decay1 * self.first + (1 - self.decay1) * grad
        self.second = self.decay2 * self.second + (1 - self.decay2) * grad**2
        corrected = self.first / (1 - self.decay1**self.count)
        scale = np.sqrt(self.second / (1 - self.decay2**self.count)) + self.eps
        return self.learning_rate * corrected / scale
