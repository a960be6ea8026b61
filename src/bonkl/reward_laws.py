"""Language models whose reward law under the reference is known exactly, while their outcomes
cannot be enumerated: ground truth for the sampled estimators of :mod:`bonkl.sampled`.

A :class:`SequenceModel` answers a prompt with one of a few *heavy answers* (given masses)
or, with the remaining mass, a *tail* completion: a length ``l`` drawn from a length law, then
``l`` i.i.d. tokens from ``q`` (``k`` tokens, ``k^l`` sequences per length; a completion's
log-prob is ``log(1 - H) + log P(l) + Σ log q(y_i)``, exact). Its reward is one of

- ``"neg-length"``: minus the length in tokens (paper A's reward; many ties);
- ``"loglik"``: the completion's log-prob (paper A's other reward); the heavy answers sit
  above the whole tail;
- ``"score"``: a reward model's score, a standard normal attached to each tail completion by
  a 64-bit hash of its tokens (so one completion always gets one score), the heavy answers
  with given scores;
- ``"linear"``: the sum of integer per-token rewards (paper B's memoryless model; ties);
- ``"verifier"``: 0/1, correct when the completion holds at least ``threshold`` copies of
  token 0 (answers say whether they are correct).

Exact laws. ``neg-length``, ``linear`` (:func:`bonkl.memoryless.sum_law` per length) and
``verifier`` (binomial tails per length) have exact atomic laws. ``score`` and ``loglik``
have a *continuous* tail in the model's limit: under ``score`` the tail's atoms are single
sequences, under ``loglik`` compositions of the tokens; :meth:`SequenceModel.largest_tail_atom`
bounds their mass, and the truth is the continuous limit (the atoms' effect on the KL is of
order ``n² δ``, paper A's Thm 3.4 (reported), far below the estimators' errors here).
The exact KL and win rate come from :func:`bonkl.sampled.law_kl_and_win_rate`, whose atomic
case agrees with :func:`bonkl.bestofn.kl` (tests).

References
----------
Beirami et al., "Theoretical guarantees on the best-of-n alignment policy", arXiv:2401.01879;
Yang et al., "Asymptotics of language model alignment", arXiv:2404.01730 (memoryless model).

Examples
--------
>>> import numpy as np
>>> model = MODELS["open-ended"]
>>> kl, win = model.exact([1, 16])
>>> bool(np.allclose(kl, [0.0, np.log(16) - 15 / 16]))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from bonkl import memoryless
from bonkl.sampled import law_kl_and_win_rate

#: The rewards a model can give (module doc).
REWARDS = ("neg-length", "loglik", "score", "linear", "verifier")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class Answer:
    """A heavy answer: its text, reference mass, length in tokens, score and correctness."""

    text: str
    mass: float
    length: int
    score: float = 0.0
    correct: bool = True
    linear: int = 0  # its reward under "linear"


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class SequenceModel:
    """Heavy answers plus a memoryless tail; see the module doc.

    Attributes: ``name``; ``reward`` (one of :data:`~bonkl.reward_laws.REWARDS`);
    ``token_p`` (``q``); ``lengths`` and ``length_p`` (the tail's length law); ``answers``;
    ``token_reward`` (integers, for ``linear``); ``threshold`` (for ``verifier``); ``prompt``
    (its text).
    """

    name: str
    reward: str
    token_p: tuple
    lengths: tuple
    length_p: tuple
    answers: tuple = ()
    token_reward: tuple = ()
    threshold: int = 1
    prompt: str = ""
    vocabulary: tuple = field(default=(), repr=False)

    def __post_init__(self):
        if self.reward not in REWARDS:
            raise ValueError(f"model {self.name!r}: reward {self.reward!r} not in {REWARDS}")
        if abs(sum(self.token_p) - 1) > 1e-12 or abs(sum(self.length_p) - 1) > 1e-12:
            raise ValueError(f"model {self.name!r}: token_p and length_p must sum to 1")
        if self.heavy >= 1:
            raise ValueError(f"model {self.name!r}: the answers' masses must sum below 1")
        if self.reward == "loglik" and self.answers and (
                self._max_tail_logprob() >= min(np.log(a.mass) for a in self.answers)):
            raise ValueError(f"model {self.name!r}: under loglik the tail must lie below the "
                             "heavy answers")

    @property
    def heavy(self) -> float:
        """``H``, the heavy answers' total mass."""
        return float(sum(a.mass for a in self.answers))

    def _max_tail_logprob(self) -> float:
        lengths = np.asarray(self.lengths, float)
        return float(np.log1p(-self.heavy) + np.max(np.log(self.length_p)
                                                     + lengths * np.log(max(self.token_p))))

    def largest_tail_atom(self) -> float:
        """A bound on the tail's largest atom under ``score`` (one sequence) or an estimate
        under ``loglik`` (the multinomial mass of the rounded mean composition, near the mode)."""
        q = np.asarray(self.token_p)
        tail = 1.0 - self.heavy
        if self.reward == "score":
            return float(np.exp(self._max_tail_logprob()))
        best = 0.0
        for length, pl in zip(self.lengths, self.length_p, strict=True):
            c = np.floor(length * q).astype(int)
            c[np.argsort(length * q - c)[::-1][:length - c.sum()]] += 1
            best = max(best, pl * stats.multinomial.pmf(c, length, q))
        return float(tail * best)

    # ------------------------------------------------------------------ exact reward law
    def law(self) -> tuple[np.ndarray, np.ndarray]:
        """``(continuous, atom)`` per reward level in increasing reward (masses summing to 1):
        the exact reward law (continuous limit of the tail under ``score`` and ``loglik``)."""
        tail = 1.0 - self.heavy
        q = np.asarray(self.token_p)
        pl = np.asarray(self.length_p)
        lengths = np.asarray(self.lengths)
        answers = self.answers
        if self.reward in ("score", "loglik"):
            if self.reward == "loglik":
                levels = sorted(a.mass for a in answers)
                atoms = np.r_[0.0, levels]
                continuous = np.r_[tail, np.zeros(len(levels))]
                return continuous, atoms
            scores = np.array([a.score for a in answers])
            order = np.argsort(scores, kind="stable")
            cut = stats.norm.cdf(scores[order])
            continuous = tail * np.diff(np.r_[0.0, cut, 1.0])
            atoms = np.r_[np.array([answers[j].mass for j in order]), 0.0]
            return continuous, atoms
        if self.reward == "neg-length":
            values, masses = -lengths.astype(float), tail * pl
        elif self.reward == "verifier":
            correct = tail * float(np.sum(pl * stats.binom.sf(self.threshold - 1, lengths, q[0])))
            values, masses = np.array([0.0, 1.0]), np.array([tail - correct, correct])
        else:  # linear
            parts = [memoryless.sum_law(q, np.asarray(self.token_reward, float), 0.0, int(m))
                     for m in lengths]
            values = np.concatenate([v for v, _ in parts])
            masses = np.concatenate([tail * p * np.exp(lp)
                                     for (_, lp), p in zip(parts, pl, strict=True)])
        answer_values = np.array([self._answer_reward(a) for a in answers], float)
        values = np.r_[values, answer_values]
        masses = np.r_[masses, [a.mass for a in answers]]
        levels, index = np.unique(values, return_inverse=True)
        atom = np.bincount(index, weights=masses, minlength=levels.size)
        return np.zeros(levels.size), atom / atom.sum()

    def _answer_reward(self, answer: Answer) -> float:
        return {"neg-length": -float(answer.length), "verifier": float(answer.correct),
                "linear": float(answer.linear), "score": answer.score,
                "loglik": float(np.log(answer.mass))}[self.reward]

    def exact(self, n) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``KL(π_n ‖ p)`` (nats) and ``W_n`` for each ``n``."""
        continuous, atom = self.law()
        return law_kl_and_win_rate(continuous, atom, np.atleast_1d(np.asarray(n, float)))

    # ------------------------------------------------------------------ sampling
    def draw(self, rng: np.random.Generator, size: int) -> dict:
        """``size`` i.i.d. completions: arrays ``key`` (uint64, one per distinct completion),
        ``logprob`` (exact), ``reward``, ``length``, ``tokens`` (``(size, max length)``,
        ``-1`` past the end; heavy answers all ``-1``) and ``answer`` (index or ``-1``)."""
        masses = np.r_[[a.mass for a in self.answers], 1.0 - self.heavy]
        which = rng.choice(masses.size, size=size, p=masses / masses.sum())
        answer = np.where(which < len(self.answers), which, -1)
        tail = answer < 0
        lengths = np.asarray(self.lengths)
        length_index = rng.choice(lengths.size, size=size, p=np.asarray(self.length_p))
        length = lengths[length_index]
        width = int(lengths.max())
        tokens = rng.choice(len(self.token_p), size=(size, width), p=np.asarray(self.token_p))
        tokens = np.where((np.arange(width) < length[:, None]) & tail[:, None], tokens, -1)
        log_q = np.log(np.asarray(self.token_p))
        logprob = (np.log1p(-self.heavy) + np.log(np.asarray(self.length_p))[length_index]
                   + np.where(tokens >= 0, log_q[np.maximum(tokens, 0)], 0.0).sum(axis=1))
        key = np.full(size, np.uint64(0x9E3779B97F4A7C15))
        with np.errstate(over="ignore"):
            for column in range(width):
                key = _mix(key ^ (tokens[:, column].astype(np.int64).astype(np.uint64)
                                  + np.uint64(column << 8)))
        key = np.where(tail, key | np.uint64(1 << 63), answer.astype(np.uint64))
        if self.answers:
            heavy = np.array([np.log(a.mass) for a in self.answers])
            logprob = np.where(tail, logprob, heavy[np.maximum(answer, 0)])
            length = np.where(tail, length, np.array([a.length for a in self.answers])[
                np.maximum(answer, 0)])
        reward = self._rewards(tokens, length, logprob, key, answer)
        return dict(key=key, logprob=logprob, reward=reward, length=length, tokens=tokens,
                    answer=answer)

    def _rewards(self, tokens, length, logprob, key, answer) -> np.ndarray:
        tail = answer < 0
        if self.reward == "neg-length":
            value = -length.astype(float)
        elif self.reward == "loglik":
            value = logprob.copy()
        elif self.reward == "score":
            u = ((_mix(key) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
            value = special.ndtri(u)
        elif self.reward == "linear":
            w = np.asarray(self.token_reward, float)
            value = np.where(tokens >= 0, w[np.maximum(tokens, 0)], 0.0).sum(axis=1)
        else:
            value = ((tokens == 0).sum(axis=1) >= self.threshold).astype(float)
        if self.answers:
            answers = np.array([self._answer_reward(a) for a in self.answers])
            value = np.where(tail, value, answers[np.maximum(answer, 0)])
        return value

    def text(self, tokens: np.ndarray, answer: np.ndarray) -> list[str]:
        """Completion texts: an answer's text, or the tail's tokens as words."""
        words = np.asarray(self.vocabulary or [f"w{j}" for j in range(len(self.token_p))],
                           dtype=object)
        out = []
        for row, a in zip(tokens, answer, strict=True):
            out.append(self.answers[a].text if a >= 0 else " ".join(words[row[row >= 0]]))
        return out


def _zipf(k: int, s: float = 1.1) -> tuple:
    weights = 1.0 / np.arange(1, k + 1) ** s
    return tuple(weights / weights.sum())


def _uniform_lengths(lo: int, hi: int) -> tuple[tuple, tuple]:
    lengths = tuple(range(lo, hi + 1))
    return lengths, tuple(np.full(len(lengths), 1.0 / len(lengths)))


def _geometric_lengths(stop: float, hi: int) -> tuple[tuple, tuple]:
    """Lengths 1..hi: a stop token with probability ``stop`` after each token, cut at ``hi``."""
    lengths = np.arange(1, hi + 1)
    p = stop * (1 - stop) ** (lengths - 1.0)
    p[-1] = (1 - stop) ** (hi - 1.0)
    return tuple(lengths.tolist()), tuple(p / p.sum())


_DIVERSE = _zipf(32)
_LONG = _uniform_lengths(30, 80)
#: The ground-truth stage's models by name, every situation of issue 22.
MODELS = {
    "memoryless-linear": SequenceModel(
        "memoryless-linear", "linear", (0.4, 0.3, 0.2, 0.1), (32,), (1.0,),
        token_reward=(0, 1, 2, 3)),
    "verifier": SequenceModel(
        "verifier", "verifier", _DIVERSE, *_uniform_lengths(24, 48), threshold=12),
    "heavy-answer-score": SequenceModel(
        "heavy-answer-score", "score", _DIVERSE, *_LONG,
        answers=(Answer("Paris", 0.6, 1, score=1.0),)),
    "heavy-answer-loglik": SequenceModel(
        "heavy-answer-loglik", "loglik", _DIVERSE, *_LONG,
        answers=(Answer("Paris", 0.6, 1),)),
    "open-ended": SequenceModel("open-ended", "score", _DIVERSE, *_LONG),
    "minus-length": SequenceModel(
        "minus-length", "neg-length", _DIVERSE, *_geometric_lengths(0.08, 400)),
}


def prompt_models(reward: str) -> dict[str, SequenceModel]:
    """Paper A's Fig. 4 prompts as known-law models under ``reward`` (``loglik`` or
    ``neg-length``): a low-entropy factual prompt with a heavy answer, a yes/no prompt whose
    few short answers hold most of the mass, an open-ended prompt with only a diffuse tail."""
    vocabulary = tuple(f"w{j}" for j in range(32))
    specs = [
        ("What is the capital of France?",
         (Answer("Paris", 0.72, 1), Answer("Paris.", 0.12, 2),
          Answer("The capital of France is Paris.", 0.06, 6)), _uniform_lengths(4, 40)),
        ("Is 7 a prime number? Answer yes or no.",
         (Answer("Yes", 0.35, 1), Answer("Yes.", 0.2, 2), Answer("No", 0.05, 1),
          Answer("Yes, 7 is prime.", 0.1, 5)), _uniform_lengths(4, 40)),
        ("Write a short poem about the sea.", (), _uniform_lengths(30, 80)),
    ]
    return {prompt: SequenceModel(f"prompt-{j}", reward, _DIVERSE, *lengths, answers=answers,
                                  prompt=prompt, vocabulary=vocabulary)
            for j, (prompt, answers, lengths) in enumerate(specs)}
