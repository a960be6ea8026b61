"""The sampled-RL tasks of paper C's scaled-down "1 or 2" analogue, and their references.

A task fixes a :class:`~bonkl.rl.autoregressive.SequenceSpace`, the well-formed answers and
their rewards (every other string is malformed, reward 0), the threshold ``τ`` above which
an answer is *valid* (good), the good *modes* (each valid answer, or each reward plateau),
and a biased pretraining corpus. Its reference policy is the smoothed maximum-likelihood
fit of the autoregressive model to ``corpus.size`` answers drawn from the corpus, or to
their expected counts (``corpus.counts: expected``) (:func:`pretrain_reference`), so it
prefers what the corpus prefers and keeps a little mass on every string.

Two config shapes (``key`` names the task in error messages):

- ``answers: {"1": 1.0, "2": 1.0}`` with ``corpus.weights: {"1": 0.78, "12": 0.04, ...}``
  (relative weights of any strings, rescaled to sum to 1), or ``corpus: {validity,
  preference, suffixes}``, a *shared, balanced* format: the same
  malformed continuations after every answer, the preference in the answer token; every
  valid answer is a mode.
- ``bins: {count, plateaus: [[start, end], ...], plateau_reward, background_reward}``
  (paper C, Fig. 5): answers are the bin numbers written with ``len(str(count − 1))``
  digits, the corpus puts weight ``∝ e^{−decay·b}`` on bin ``b`` and ``corpus.malformed``
  (absolute weights of malformed strings) on the rest; each plateau ``[start, end)`` is a
  mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bonkl.plumbing.tables import read_table, write_table
from bonkl.rl.autoregressive import SequenceSpace


class TaskSpecError(ValueError):
    """A task's config is invalid; the message names the key and what was expected."""


@dataclass(frozen=True)
class Task:
    """A task: its outcome space, well-formed answers and rewards, τ, and its corpus."""

    name: str
    space: SequenceSpace
    answers: tuple[str, ...]  # the well-formed answers, in display order
    rewards: np.ndarray  # per outcome of ``space``; 0 for malformed strings
    tau: float  # valid (good): reward >= tau
    modes: tuple[np.ndarray, ...]  # outcome indices of each good mode
    mode_names: tuple[str, ...]  # each mode's answer, or its plateau's first-last answers
    corpus: np.ndarray  # per outcome pretraining weight, summing to 1
    corpus_size: int
    smoothing: float
    corpus_counts: str = "multinomial"  # or "expected": fit to size·corpus, no draw

    @property
    def good(self) -> np.ndarray:
        return self.rewards >= self.tau

    @property
    def malformed(self) -> np.ndarray:
        mask = np.ones(len(self.space.outcomes), dtype=bool)
        mask[[self.space.index(a) for a in self.answers]] = False
        return mask


def _fail(key: str, problem: str):
    raise TaskSpecError(f"{key}: {problem}")


def _string_key(key: str, value) -> str:
    if not isinstance(value, str):
        _fail(key, f"{value!r} is a {type(value).__name__}; expected a string (quote it in "
                   "YAML, e.g. \"1\")")
    return value


def _index(space: SequenceSpace, key: str, answer: str) -> int:
    try:
        return space.index(answer)
    except ValueError as err:
        _fail(key, str(err))


def _answer_task(spec: dict, space: SequenceSpace, key: str):
    answers = {_string_key(f"{key}.answers", a): float(r) for a, r in spec["answers"].items()}
    if not answers:
        _fail(f"{key}.answers", "is empty; expected at least two answers")
    indices = [_index(space, f"{key}.answers", a) for a in answers]
    corpus_spec = spec["corpus"]
    where = f"{key}.corpus.weights"
    if "validity" in corpus_spec:
        weights = _format_weights(corpus_spec, list(answers), f"{key}.corpus", space)
        where = f"{key}.corpus.suffixes"
    else:
        weights = corpus_spec.get("weights")
    if weights is None:
        _fail(f"{key}.corpus", "has no 'weights' nor 'validity'; expected relative weights of "
              "strings, or validity, preference and suffixes")
    corpus = np.zeros(len(space.outcomes))
    for text, weight in weights.items():
        corpus[_index(space, where, _string_key(where, text))] += _positive(where, text, weight)
    modes = None  # every valid answer is its own mode
    return list(answers), indices, list(answers.values()), corpus / corpus.sum(), modes, None


def _format_weights(corpus: dict, answers: list[str], key: str,
                    space: SequenceSpace) -> dict[str, float]:
    """Corpus weights of a task whose *shared* format must be learned (paper C's XML tags are
    the same after either answer): every corpus string starts with an answer, the first
    with probability ``preference`` and the others sharing the rest equally (the
    reference's preference sits in the answer token); after *any* answer, the string ends
    there (valid) with probability ``validity``, else one of the ``suffixes`` follows, in
    proportion to their weights (the same format after every answer, so
    ``P(valid | answer)`` is ``validity`` for each)."""
    validity, preference = float(corpus["validity"]), float(corpus.get("preference", 1.0))
    if not 0 < validity < 1:
        _fail(f"{key}.validity", f"is {validity!r}; expected a mass in (0, 1)")
    if not 0 < preference < 1:
        _fail(f"{key}.preference", f"is {preference!r}; expected a share in (0, 1)")
    suffixes = corpus.get("suffixes") or {}
    if not suffixes:
        _fail(f"{key}.suffixes", "is missing or empty; expected weights of the strings written "
              "after an answer when it is malformed")
    total = sum(_positive(f"{key}.suffixes", text, weight) for text, weight in suffixes.items())
    weights = {}
    others = (1 - preference) / (len(answers) - 1)
    for j, answer in enumerate(answers):
        mass = preference if j == 0 else others
        weights[answer] = mass * validity
        for text, weight in suffixes.items():
            text = _string_key(f"{key}.suffixes", text)
            written = answer + text
            if not text or written in answers:
                _fail(f"{key}.suffixes", f"{text!r} after {answer!r} writes {written!r}, "
                      "a well-formed answer; expected a non-empty malformed continuation")
            _index(space, f"{key}.suffixes", written)
            weights[written] = weights.get(written, 0.0) + mass * (1 - validity) * weight / total
    return weights


def expand_tasks(specs: list[dict]) -> list[tuple[str, dict, int]]:
    """``(name, spec, i)`` per task of the config list: a spec with ``sweep: {validity: [...],
    preference: [...]}`` becomes one task per pair, ``{name}_valid{v:g}_pref{p:g}``, with
    ``corpus.validity``, ``corpus.preference`` set; ``i`` is its entry in the list."""
    tasks = []
    for i, spec in enumerate(specs):
        sweep = spec.get("sweep")
        if sweep is None:
            tasks.append((spec["name"], spec, i))
            continue
        base = {k: v for k, v in spec.items() if k != "sweep"}
        for validity in sweep["validity"]:
            for preference in sweep["preference"]:
                corpus = dict(spec["corpus"], validity=validity, preference=preference)
                name = f"{spec['name']}_valid{validity:g}_pref{preference:g}"
                tasks.append((name, dict(base, name=name, corpus=corpus), i))
    return tasks


def _positive(key: str, name, weight) -> float:
    if not (np.isfinite(weight) and weight > 0):
        _fail(key, f"{name!r} has weight {weight!r}; expected a positive number")
    return float(weight)


def _bins_task(spec: dict, space: SequenceSpace, key: str):
    bins = spec["bins"]
    count, digits = int(bins["count"]), len(str(int(bins["count"]) - 1))
    answers = [f"{b:0{digits}d}" for b in range(count)]
    indices = [_index(space, f"{key}.bins.count", a) for a in answers]
    rewards = np.full(count, float(bins["background_reward"]))
    plateaus = [tuple(map(int, plateau)) for plateau in bins["plateaus"]]
    previous_end = 0
    for j, (start, end) in enumerate(plateaus):
        if not previous_end <= start < end <= count:
            _fail(f"{key}.bins.plateaus[{j}]", f"is [{start}, {end}]; expected "
                  f"{previous_end} <= start < end <= bins.count = {count} (sorted, disjoint)")
        rewards[start:end] = float(bins["plateau_reward"])
        previous_end = end
    corpus_spec = spec["corpus"]
    if "decay" not in corpus_spec:
        _fail(f"{key}.corpus", "has no 'decay'; expected the bins' decay rate")
    malformed = corpus_spec.get("malformed", {})
    corpus = np.zeros(len(space.outcomes))
    for text, weight in malformed.items():
        where = f"{key}.corpus.malformed"
        text = _string_key(where, text)
        if text in answers:
            _fail(where, f"{text!r} is a well-formed bin; expected a malformed string")
        corpus[_index(space, where, text)] += _positive(where, text, weight)
    if corpus.sum() >= 1:
        _fail(f"{key}.corpus.malformed", f"weights sum to {corpus.sum()!r}; expected < 1")
    decay = np.exp(-float(corpus_spec["decay"]) * np.arange(count))
    corpus[indices] += (1 - corpus.sum()) * decay / decay.sum()
    modes = [np.array(indices[start:end]) for start, end in plateaus]
    names = [f"{answers[start]}-{answers[end - 1]}" for start, end in plateaus]
    return answers, indices, list(rewards), corpus, modes, names


def build_task(name: str, spec: dict, key: str | None = None) -> Task:
    """The :class:`Task` of config ``spec``; :class:`TaskSpecError` names ``key`` on bad input."""
    key = key or name
    try:
        space = SequenceSpace(str(spec["vocabulary"]), int(spec["max_tokens"]))
    except ValueError as err:
        _fail(key, str(err))
    has_answers, has_bins = "answers" in spec, "bins" in spec
    if has_answers == has_bins:
        _fail(key, "expected exactly one of 'answers' and 'bins'")
    build = _answer_task if has_answers else _bins_task
    answers, indices, answer_rewards, corpus, modes, names = build(spec, space, key)
    rewards = np.zeros(len(space.outcomes))
    rewards[indices] = answer_rewards
    tau = float(spec["tau"])
    good = np.flatnonzero(rewards >= tau)
    if good.size < 2:
        _fail(f"{key}.tau", f"is {tau!r}, leaving {good.size} valid answer(s) (reward >= tau); "
              "expected at least two")
    if modes is None:
        modes = [np.array([i]) for i in good]
        names = [space.outcomes[i] for i in good]
    modes = tuple(m[rewards[m] >= tau] for m in modes)
    if any(m.size == 0 for m in modes):
        _fail(f"{key}.tau", f"is {tau!r}; expected every plateau to be valid (reward >= tau)")
    corpus_spec = spec["corpus"]
    return Task(name=name, space=space, answers=tuple(answers), rewards=rewards, tau=tau,
                modes=modes, mode_names=tuple(names), corpus=corpus,
                corpus_size=int(corpus_spec["size"]), smoothing=float(corpus_spec["smoothing"]),
                corpus_counts=_counts_kind(corpus_spec.get("counts", "multinomial"),
                                           f"{key}.corpus.counts"))


COUNTS = ("multinomial", "expected")


def _counts_kind(value, key: str) -> str:
    if value not in COUNTS:
        _fail(key, f"is {value!r}; expected one of {list(COUNTS)}")
    return value


def pretrain_reference(task: Task, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(logits, counts)``: the reference fitted to ``corpus_size`` draws from the corpus,
    or (``corpus.counts: expected``) to their expected counts ``size·corpus``, so that no
    result hangs on one draw of the corpus (``rng`` unused then)."""
    if task.corpus_counts == "expected":
        counts = task.corpus_size * task.corpus
    else:
        counts = rng.multinomial(task.corpus_size, task.corpus)
    return task.space.fit_reference(counts, task.smoothing), counts


def answer_format(task: Task, log_pi: np.ndarray) -> pd.DataFrame:
    """Per well-formed answer ``a``: ``p_answer`` ``= P(y starts with a)``, ``p_valid``
    ``= P(y = a | y starts with a)`` (the format completed after the answer: for one-token
    answers the closing probability after it) and ``mass`` ``= π(a)``, under ``π = exp(log_pi)``
    over the task's outcomes."""
    pi = np.exp(log_pi)
    outcomes = task.space.outcomes
    rows = []
    for answer in task.answers:
        starts = np.array([o.startswith(answer) for o in outcomes])
        prefix = pi[starts].sum()
        mass = pi[task.space.index(answer)]
        rows.append({"answer": answer, "p_answer": prefix, "p_valid": mass / prefix,
                     "mass": mass})
    return pd.DataFrame(rows)


def write_reference(task: Task, logits: np.ndarray, counts: np.ndarray, path) -> None:
    """The reference as a table: per state and token, ``log softmax(θ[s])`` and the corpus count.

    ``prefix`` and ``token_text`` are for reading (``repr`` of the prefix, ``<eos>``);
    :func:`read_reference_logits` uses the integer ``state`` and ``token`` columns.
    """
    space = task.space
    log_probs = space.token_log_probs(logits)
    transitions = space.transition_counts(counts)
    prefixes = [o for o in space.outcomes if len(o) < space.max_tokens]
    states, tokens = np.indices(space.shape)
    token_texts = [*space.vocabulary, "<eos>"]
    write_table(pd.DataFrame({
        "state": states.ravel(),
        "token": tokens.ravel(),
        "prefix": [repr(prefixes[s]) for s in states.ravel()],
        "token_text": [token_texts[t] for t in tokens.ravel()],
        "corpus_count": transitions.ravel(),
        "log_prob": log_probs.ravel(),
    }), path)


def read_reference(task: Task, path) -> tuple[np.ndarray, np.ndarray]:
    """``(logits, transitions)`` from :func:`write_reference`'s file: the reference's logit
    table (normalised per state) and the corpus' transition counts ``n(s, k)``."""
    table = read_table(path)
    expected = task.space.shape
    if len(table) != expected[0] * expected[1]:
        raise ValueError(f"{path}: {len(table)} rows; expected {expected[0] * expected[1]} "
                         f"(states x tokens of task {task.name!r})")
    logits = np.full(expected, np.nan)
    transitions = np.full(expected, np.nan)
    where = table["state"].to_numpy(), table["token"].to_numpy()
    logits[where] = table["log_prob"].to_numpy()
    transitions[where] = table["corpus_count"].to_numpy()
    return logits, transitions


def read_reference_logits(task: Task, path) -> np.ndarray:
    """The reference's logit table (normalised per state) from :func:`write_reference`'s file."""
    return read_reference(task, path)[0]
