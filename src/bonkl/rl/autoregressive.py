"""A tabular autoregressive policy over short token sequences, with exact sequence log-probs.

The scaled-down stand-in for a language model in paper C's "1 or 2" experiment. Tokens
are the characters of a ``vocabulary`` plus an end-of-sequence token ``EOS``. A policy
writes at most ``max_tokens`` tokens: at each prefix ``s`` shorter than ``max_tokens`` it
draws the next token from ``softmax(θ[s])`` over the vocabulary and ``EOS``; ``EOS`` or
reaching ``max_tokens`` tokens ends the answer. The answer is the string written (``EOS``
excluded), so the outcome space is every string of length 0 to ``max_tokens``, and::

    log π(y) = Σ_t log softmax(θ[y_<t])[y_t]  (+ log softmax(θ[y])[EOS] if |y| < max_tokens).

``θ`` has one row per prefix (a "state") and one column per token (``EOS`` last): a
tabular model, so maximum-likelihood pretraining has the closed form of smoothed
conditional counts (:meth:`SequenceSpace.fit_reference`) and every sequence probability is
exact (:meth:`SequenceSpace.log_probs`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SequenceSpace:
    """Every answer of at most ``max_tokens`` characters of ``vocabulary``, with its path.

    States (prefixes) and outcomes (answers) are numbered by length, then as base-``V``
    numbers (``V = len(vocabulary)``): the empty string is state 0 and outcome 0.
    """

    vocabulary: str
    max_tokens: int
    outcomes: tuple[str, ...] = field(init=False, repr=False)
    path_states: np.ndarray = field(init=False, repr=False)
    path_tokens: np.ndarray = field(init=False, repr=False)
    path_mask: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if len(self.vocabulary) < 1 or len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError(f"vocabulary {self.vocabulary!r} must be non-empty distinct "
                             "characters")
        if int(self.max_tokens) != self.max_tokens or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be an integer >= 1, got {self.max_tokens!r}")
        outcomes = ["".join(chars) for length in range(self.max_tokens + 1)
                    for chars in itertools.product(self.vocabulary, repeat=length)]
        states = np.zeros((len(outcomes), self.max_tokens), dtype=np.int64)
        tokens = np.zeros_like(states)
        mask = np.zeros(states.shape, dtype=bool)
        for i, answer in enumerate(outcomes):
            steps = [(self.state(answer[:t]), self.vocabulary.index(answer[t]))
                     for t in range(len(answer))]
            if len(answer) < self.max_tokens:
                steps.append((self.state(answer), self.eos))
            for t, (state, token) in enumerate(steps):
                states[i, t], tokens[i, t], mask[i, t] = state, token, True
        object.__setattr__(self, "outcomes", tuple(outcomes))
        for name, value in [("path_states", states), ("path_tokens", tokens),
                            ("path_mask", mask)]:
            value.flags.writeable = False
            object.__setattr__(self, name, value)

    @property
    def eos(self) -> int:
        """Column of the end-of-sequence token."""
        return len(self.vocabulary)

    @property
    def states(self) -> int:
        """Number of prefixes shorter than ``max_tokens``: ``Σ_{t < max_tokens} V^t``."""
        return sum(len(self.vocabulary) ** t for t in range(self.max_tokens))

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of a logit table ``θ``: (states, vocabulary + EOS)."""
        return self.states, len(self.vocabulary) + 1

    def state(self, prefix: str) -> int:
        """Row of ``prefix`` in a logit table."""
        return self._number(prefix)

    def index(self, answer: str) -> int:
        """Position of ``answer`` in :attr:`outcomes`; a clear error if it is not one."""
        if len(answer) > self.max_tokens or any(c not in self.vocabulary for c in answer):
            raise ValueError(f"{answer!r} is not an answer of at most {self.max_tokens} "
                             f"characters of {self.vocabulary!r}")
        return self._number(answer)

    def _number(self, text: str) -> int:
        base = len(self.vocabulary)
        value = sum(base**t for t in range(len(text)))
        for position, char in enumerate(reversed(text)):
            value += self.vocabulary.index(char) * base**position
        return value

    def token_log_probs(self, logits: np.ndarray) -> np.ndarray:
        """``log softmax(θ[s])`` for every state ``s``: the *token table* of the policy.

        ``logits`` is one table :attr:`shape` or a stack ``(runs, *shape)``. Plain NumPy
        (max-shifted), as scipy's ``logsumexp`` costs more than a training step here.
        """
        logits = np.asarray(logits, dtype=float)
        if logits.shape[-2:] != self.shape or logits.ndim not in (2, 3):
            raise ValueError(f"logits have shape {logits.shape}, expected {self.shape} or "
                             f"(runs, {self.shape[0]}, {self.shape[1]})")
        shifted = logits - logits.max(axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))

    def log_probs(self, logits: np.ndarray) -> np.ndarray:
        """Exact ``log π(y)`` of every outcome (module doc); a stack of tables gives a row each."""
        return self.path_log_probs(self.token_log_probs(logits))

    def path_log_probs(self, table: np.ndarray, outcomes=None) -> np.ndarray:
        """``log π(y)`` of ``outcomes`` (default: all), summing each path's terms of ``table``.

        ``table`` ``(S, W)`` with ``outcomes`` ``(B,)``, or a stack ``(R, S, W)`` with
        ``outcomes`` ``(R, B)`` (each run its own samples).
        """
        if table.ndim == 2:
            picked = None if outcomes is None else np.asarray(outcomes)[None]
            return self.path_log_probs(table[None], picked)[0]
        if outcomes is None:
            outcomes = np.broadcast_to(np.arange(len(self.outcomes)),
                                       (table.shape[0], len(self.outcomes)))
        return np.sum(self.step_log_probs(table, outcomes), axis=-1)

    def step_log_probs(self, table: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
        """``log π(y_t | y_<t)`` of each path step of ``outcomes`` ``(R, B)`` under the stack
        ``table`` ``(R, S, W)``: ``(R, B, max_tokens)``, 0 beyond a path's end."""
        runs = np.arange(table.shape[0])[:, None, None]
        steps = table[runs, self.path_states[outcomes], self.path_tokens[outcomes]]
        return np.where(self.path_mask[outcomes], steps, 0.0)

    def sample(self, table: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Outcome indices of answers written token by token (inverse-CDF draws).

        ``table`` is the policy's :meth:`token_log_probs`, ``(S, W)`` or ``(R, S, W)``;
        ``uniforms`` holds ``max_tokens`` uniforms per answer, ``(max_tokens, B)`` or
        ``(R, max_tokens, B)``, used whatever is drawn, so each run's stream advances by
        the same amount every step. Returns ``(B,)`` or ``(R, B)`` indices.
        """
        if table.ndim == 2:
            return self.sample(table[None], np.asarray(uniforms)[None])[0]
        cumulative = np.cumsum(np.exp(table), axis=-1)
        base = len(self.vocabulary)
        runs = np.arange(table.shape[0])[:, None]
        state = np.zeros(uniforms[:, 0].shape, dtype=np.int64)
        done = np.zeros(state.shape, dtype=bool)
        for t in range(self.max_tokens):
            # every answer starts at the empty prefix: no gather for the first token
            rows = cumulative[:, :1] if t == 0 else cumulative[runs, state]
            token = np.minimum(np.sum(rows < uniforms[:, t, :, None] * rows[..., -1:], axis=-1),
                               self.eos)
            done |= token == self.eos
            # the child of prefix number s by token k is s·V + 1 + k (numbering by length)
            state = np.where(done, state, state * base + 1 + token)
        return state

    def score_gradient(self, table: np.ndarray, outcomes: np.ndarray,
                       weights: np.ndarray) -> np.ndarray:
        """``Σ_i w_i ∇_θ log π(y_i)``: ``w_i (e_{y_t} − softmax(θ[s_t]))`` on each path step.

        ``table`` is the policy's :meth:`token_log_probs`; the gradient is in the logits θ.
        ``weights`` per answer, or per answer and path step (``w_{it}`` on step ``t``: the
        gradient ``Σ_{i,t} w_{it} ∇_θ log π(y_t | y_<t)``). Stacked: ``table``
        ``(R, S, W)``, ``outcomes`` ``(R, B)`` and ``weights`` ``(R, B)`` or
        ``(R, B, max_tokens)``, one gradient per run (each run's own samples and weights).
        """
        outcomes = np.asarray(outcomes)
        weights = np.asarray(weights, float)
        if table.ndim == 2:
            return self.score_gradient(table[None], outcomes[None], weights[None])[0]
        if weights.ndim == outcomes.ndim:
            weights = weights[..., None]
        runs = table.shape[0]
        # padding steps (beyond a path's end) point at state 0, token 0 with weight 0
        offsets = (np.arange(runs) * self.states)[:, None, None]
        states = (self.path_states[outcomes] + offsets).ravel()
        tokens = self.path_tokens[outcomes].ravel()
        step_weights = np.where(self.path_mask[outcomes], weights, 0.0).ravel()
        width = self.shape[1]
        chosen = np.bincount(states * width + tokens, step_weights, minlength=table.size)
        visits = np.bincount(states, step_weights, minlength=runs * self.states)
        return (chosen.reshape(table.shape)
                - visits.reshape(runs, self.states, 1) * np.exp(table))

    def transition_counts(self, counts: np.ndarray) -> np.ndarray:
        """``n(s, k)``: how many answers (``counts`` per outcome) write token ``k`` at ``s``."""
        counts = np.asarray(counts, dtype=float)
        if counts.shape != (len(self.outcomes),) or np.any(counts < 0):
            raise ValueError(f"counts must be {len(self.outcomes)} non-negative numbers")
        mask = self.path_mask
        table = np.zeros(self.shape)
        np.add.at(table, (self.path_states[mask], self.path_tokens[mask]),
                  np.broadcast_to(counts[:, None], mask.shape)[mask])
        return table

    def fit_reference(self, counts: np.ndarray, smoothing: float) -> np.ndarray:
        """Logits of the add-``smoothing`` maximum-likelihood fit to answer ``counts``.

        The tabular model's likelihood factorises over states, so its maximum (with a
        symmetric Dirichlet(1 + smoothing) prior per state) is
        ``softmax(θ[s])[k] = (n(s, k) + α)/(n(s) + (V + 1)α)`` with ``n`` the
        :meth:`transition_counts`. ``α > 0`` keeps every sequence's probability positive
        (reverse KL and MARA need ``log π_ref``).
        """
        if not smoothing > 0:
            raise ValueError(f"smoothing must be > 0, got {smoothing!r}")
        return np.log(self.transition_counts(counts) + smoothing)
