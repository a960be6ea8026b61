"""The optimisers of the sampled-RL runs: Adam (:mod:`bonkl.rl.adam`) and plain SGD.

Both are stateful steps on one parameter array: ``update`` maps the gradient of a loss
to the step to subtract. Plain SGD's step is ``η·g`` (no momentum, no clipping), the other
end from Adam's per-coordinate normalised ``η·m̂/(√v̂ + ε)``: paper C does not say which
optimiser its runs used, so the analogue runs both.
"""

from __future__ import annotations

import numpy as np

from bonkl.rl.adam import Adam

#: The optimisers by config name.
OPTIMIZERS = ("adam", "sgd")


class SGD:
    """Plain stochastic gradient descent: the step is ``η·g``.

    ``learning_rate`` may be an array broadcasting against ``shape`` (one rate per run).
    """

    def __init__(self, shape, learning_rate: float):
        if not np.all(np.asarray(learning_rate) > 0):
            raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
        self.learning_rate = np.asarray(learning_rate, dtype=float)
        self.shape = tuple(shape)

    def update(self, grad: np.ndarray) -> np.ndarray:
        """The step ``η·g`` for gradient ``grad`` (of a loss to minimise)."""
        return self.learning_rate * grad


def optimizer(name: str, shape, learning_rate) -> Adam | SGD:
    """The optimiser ``name`` (one of :data:`OPTIMIZERS`) for an array of ``shape``."""
    if name == "adam":
        return Adam(shape, learning_rate)
    if name == "sgd":
        return SGD(shape, learning_rate)
    raise ValueError(f"optimizer {name!r} not in {OPTIMIZERS}")
