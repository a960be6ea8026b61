"""A tabular autoregressive policy over short token sequences, with exact sequence log-probs.

The scaled-down stand-in for a language model in paper C's "1 or 2" experiment. Tokens
are the characters of a ``vocabulary`` plus an end-of-sequence token ``EOS``. A policy
writes at most ``max_tokens`` tokens: at each prefix ``s`` shorter than ``max_tokens`` it
draws the next token from ``softmax(θ[s])`` over the vocabulary and ``EOS``; ``EOS`` or
reaching ``max_tokens`` tokens ends the answer. The answer is the string written (``EOS``
excluded), so the outcome space is every string of length 0 to ``max_tokens``, and

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

        Plain NumPy (max-shifted), as scipy's ``logsumexp`` costs more than the whole
        training step on these small tables.
        """
        logits = np.asarray(logits, dtype=float)
        if logits.shape != self.shape:
            raise ValueError(f"logits have shape {logits.shape}, expected {self.shape}")
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

    def log_probs(self, logits: np.ndarray) -> np.ndarray:
        """Exact ``log π(y)`` of every outcome (module doc)."""
        return self.path_log_probs(self.token_log_probs(logits))

    def path_log_probs(self, table: np.ndarray, outcomes=slice(None)) -> np.ndarray:
        """``log π(y)`` of ``outcomes`` (default: all), summing each path's terms of ``table``."""
        mask = self.path_mask[outcomes]
        steps = table[self.path_states[outcomes], self.path_tokens[outcomes]]
        return np.sum(np.where(mask, steps, 0.0), axis=1)

    def sample(self, table: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """Outcome indices of ``size`` answers written token by token (inverse-CDF draws).

        ``table`` is the policy's :meth:`token_log_probs`. Uses ``max_tokens`` arrays of
        ``size`` uniforms whatever is drawn, so the stream position after a call does not
        depend on the answers.
        """
        cumulative = np.cumsum(np.exp(table), axis=1)
        base = len(self.vocabulary)
        state = np.zeros(size, dtype=np.int64)
        done = np.zeros(size, dtype=bool)
        for _ in range(self.max_tokens):
            uniforms = rng.random(size)
            rows = cumulative[state]
            token = np.minimum(np.sum(rows < uniforms[:, None] * rows[:, -1:], axis=1),
                               self.eos)
            done |= token == self.eos
            # the child of prefix number s by token k is s·V + 1 + k (numbering by length)
            state = np.where(done, state, state * base + 1 + token)
        return state

    def score_gradient(self, table: np.ndarray, outcomes: np.ndarray,
                       weights: np.ndarray) -> np.ndarray:
        """``Σ_i w_i ∇_θ log π(y_i)``: ``w_i (e_{y_t} − softmax(θ[s_t]))`` on each path step.

        ``table`` is the policy's :meth:`token_log_probs`; the gradient is in the logits θ.
        """
        mask = self.path_mask[outcomes]
        states = self.path_states[outcomes][mask]
        tokens = self.path_tokens[outcomes][mask]
        step_weights = np.broadcast_to(np.asarray(weights, float)[:, None], mask.shape)[mask]
        width = self.shape[1]
        chosen = np.bincount(states * width + tokens, step_weights, minlength=table.size)
        visits = np.bincount(states, step_weights, minlength=self.states)
        return chosen.reshape(self.shape) - visits[:, None] * np.exp(table)

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
