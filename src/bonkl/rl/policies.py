"""The two policy kinds of the sampled-RL runs: a table of logits, and a shared-parameter MLP.

Both map parameters to the next-token logits of every prefix ("state") of a
:class:`~bonkl.rl.autoregressive.SequenceSpace`, ``(runs, S, W)``, and back-propagate a
gradient in those logits to their parameters by hand (NumPy, no autodiff). Parameters are
lists of arrays with a leading run axis, so many runs train as one computation; nothing
couples two runs.

- :class:`TabularPolicy`: the parameters *are* the logits, one free row per state.
- :class:`MLPPolicy`: one small network shared across positions. State ``s`` (a prefix of
  length ``t`` whose last token is ``k``, or the start symbol when ``t = 0``) has input
  ``x_s = E[k] + P[t]`` (a token and a position embedding of width ``d``), one hidden layer
  ``h_s = tanh(x_s W₁ + b₁)`` of width ``H``, and logits ``h_s W₂ + b₂``. The closing (EOS)
  logit's weights are shared by every prefix, as an LLM's output layer is, so the format
  learned after one answer carries over to the other; prefixes with the same last token and
  length share their logits (function approximation). Its reference is pretrained by
  maximum likelihood on the corpus' transition counts (:meth:`MLPPolicy.pretrain`).
"""

from __future__ import annotations

import numpy as np

from bonkl.rl.adam import Adam
from bonkl.rl.autoregressive import SequenceSpace

#: The policy kinds by config name.
POLICIES = ("tabular", "mlp")


def stack(params: list[np.ndarray], runs: int) -> list[np.ndarray]:
    """One copy of each array of ``params`` (no run axis) per run: a leading axis ``runs``."""
    return [np.repeat(np.asarray(p, float)[None], runs, axis=0) for p in params]


class TabularPolicy:
    """``logits = θ``: one free row of logits per state (the reference's fit is closed-form,
    :meth:`~bonkl.rl.autoregressive.SequenceSpace.fit_reference`)."""

    kind = "tabular"

    def __init__(self, space: SequenceSpace):
        self.space = space

    def logits(self, params: list[np.ndarray]) -> tuple[np.ndarray, None]:
        """``(θ, None)``: the logits of every state of every run, and no cache."""
        return params[0], None

    def backward(self, params, cache, grad_logits: np.ndarray) -> list[np.ndarray]:
        """The gradient in ``θ``: ``grad_logits`` itself."""
        return [grad_logits]


class MLPPolicy:
    """A two-layer network shared across positions (module doc), hand-written gradients.

    Parameters, in order: ``E`` ``(V + 1, d)`` (the vocabulary and the start symbol), ``P``
    ``(max_tokens, d)``, ``W₁`` ``(d, H)``, ``b₁`` ``(H,)``, ``W₂`` ``(H, W)``, ``b₂`` ``(W,)``;
    with a leading run axis in :meth:`logits` and :meth:`backward`.
    """

    kind = "mlp"
    names = ("token_embedding", "position_embedding", "hidden_weight", "hidden_bias",
             "output_weight", "output_bias")

    def __init__(self, space: SequenceSpace, embedding: int, hidden: int):
        if embedding < 1 or hidden < 1:
            raise ValueError(f"embedding and hidden must be >= 1, got {embedding}, {hidden}")
        self.space, self.embedding, self.hidden = space, int(embedding), int(hidden)
        prefixes = [o for o in space.outcomes if len(o) < space.max_tokens]
        start = len(space.vocabulary)
        last = [space.vocabulary.index(p[-1]) if p else start for p in prefixes]
        self.last_token = np.eye(start + 1)[last]  # (S, V + 1) one-hot
        self.position = np.eye(space.max_tokens)[[len(p) for p in prefixes]]  # (S, T)

    def shapes(self) -> list[tuple[int, ...]]:
        """The shapes of the parameter arrays of one run."""
        d, h, width = self.embedding, self.hidden, self.space.shape[1]
        return [(self.last_token.shape[1], d), (self.space.max_tokens, d), (d, h), (h,),
                (h, width), (width,)]

    def initial(self, rng: np.random.Generator, scale: float) -> list[np.ndarray]:
        """Random parameters of one run: embeddings ``N(0, scale²)``, weights ``N(0, 1/fan_in)``
        and zero biases, drawn in :meth:`shapes` order."""
        shapes = self.shapes()
        return [rng.normal(0, scale, shapes[0]), rng.normal(0, scale, shapes[1]),
                rng.normal(0, 1 / np.sqrt(self.embedding), shapes[2]), np.zeros(shapes[3]),
                rng.normal(0, 1 / np.sqrt(self.hidden), shapes[4]), np.zeros(shapes[5])]

    def logits(self, params: list[np.ndarray]) -> tuple[np.ndarray, tuple]:
        """Logits ``(R, S, W)`` of every state of every run, and the cache for :meth:`backward`."""
        tokens, positions, w1, b1, w2, b2 = params
        x = np.matmul(self.last_token, tokens) + np.matmul(self.position, positions)
        h = np.tanh(np.matmul(x, w1) + b1[:, None, :])
        return np.matmul(h, w2) + b2[:, None, :], (x, h)

    def backward(self, params, cache, grad_logits: np.ndarray) -> list[np.ndarray]:
        """The gradient in each parameter array of a scalar whose gradient in the logits is
        ``grad_logits`` ``(R, S, W)`` (the chain rule through :meth:`logits`)."""
        _, _, w1, _, w2, _ = params
        x, h = cache
        d_pre = np.matmul(grad_logits, np.swapaxes(w2, 1, 2)) * (1 - h**2)
        d_x = np.matmul(d_pre, np.swapaxes(w1, 1, 2))
        return [np.matmul(self.last_token.T, d_x), np.matmul(self.position.T, d_x),
                np.matmul(np.swapaxes(x, 1, 2), d_pre), d_pre.sum(axis=1),
                np.matmul(np.swapaxes(h, 1, 2), grad_logits), grad_logits.sum(axis=1)]

    def pretrain(self, transitions: np.ndarray, smoothing: float, rng: np.random.Generator,
                 scale: float, steps: int, learning_rate: float) -> list[np.ndarray]:
        """Parameters of one run maximising the smoothed corpus likelihood
        ``Σ_{s,k} (n(s, k) + α) log π(k | s)``, by ``steps`` full-batch Adam steps from
        :meth:`initial` (``n`` the :meth:`~bonkl.rl.autoregressive.SequenceSpace.transition_counts`,
        the tabular fit's objective: the tabular model reaches its maximum, this one what its
        shared parameters allow). Deterministic given ``rng``."""
        weights = np.asarray(transitions, float) + smoothing
        weights = weights / weights.sum()
        visits = weights.sum(axis=1, keepdims=True)
        params = stack(self.initial(rng, scale), 1)
        adams = [Adam(p.shape, learning_rate) for p in params]
        for _ in range(steps):
            logits, cache = self.logits(params)
            table = self.space.token_log_probs(logits)
            grad = visits * np.exp(table) - weights  # of the negative log-likelihood
            grads = self.backward(params, cache, grad)
            params = [p - a.update(g) for p, a, g in zip(params, adams, grads, strict=True)]
        return [p[0] for p in params]


def build_policy(kind: str, space: SequenceSpace, mlp: dict | None = None):
    """The policy ``kind`` (one of :data:`POLICIES`); ``mlp`` holds ``embedding``, ``hidden``."""
    if kind == "tabular":
        return TabularPolicy(space)
    if kind == "mlp":
        return MLPPolicy(space, mlp["embedding"], mlp["hidden"])
    raise ValueError(f"policy {kind!r} not in {POLICIES}")
