"""A user's own samples, validated row by row into one table: the canonical samples frame.

:func:`load_samples` reads a file of a model's samples (CSV, TSV, JSON Lines, Parquet, and
the layouts vLLM, OpenAI and TRL write: :mod:`bonkl.plumbing.formats`) and returns one row
per distinct (prompt, completion): ``prompt`` (str), ``completion`` (str), ``logprob``
(float64: the completion's log-probability under the reference model, in nats, summed over
its tokens), ``reward`` (float64) and ``count`` (int64, how many times it was drawn). Nothing
is normalised: the log-probs are the file's, of any magnitude (a completion of 5000 nats is
fine), never exponentiated one by one. Which situation a prompt is in (its completions
enumerate the support, or are samples of it) is for ``bonkl.sampled`` to decide.

Columns (their names are :class:`Columns`):

- ``logprob`` or ``prob`` (or ``logprobs``, ``cumulative_logprob``), exactly one, required:
  the reference model's natural-log probability of the completion (a list of per-token
  log-probs is summed), or its probability;
- ``reward``, required unless computed (:data:`REWARDS`, paper A, Fig. 4): ``loglik`` is the
  log-prob, ``neg-length`` minus ``num_tokens`` when that column is present, else minus the
  completion's length in characters;
- ``completion`` or ``outcome``: rows sharing it within a prompt are one completion; without
  either, every row is its own completion (named by its row, from 0);
- ``prompt``: without it the file is one prompt, named ``""``;
- ``count`` (how many times the row was drawn, a positive integer up to 2^53) and
  ``num_tokens`` (a non-negative integer), optional. Other columns are ignored; none of the
  used ones may appear twice.

Rules, prompt by prompt:

- Rows of one (prompt, completion) merge. Their log-probs may differ by batch noise: each
  must lie within ``tolerance`` nats (default :data:`LOGPROB_TOLERANCE`, plus 1e-12
  relative) of the first such row's, and they are averaged, weighted by count. Rewards and
  ``num_tokens`` must agree to 1e-12 relative. Counts add (a row counts 1 without a
  ``count`` column).
- The seen mass, ``Σ exp(logprob)`` over a prompt's distinct completions, must not exceed
  ``1 + SUM_TOLERANCE``: no model gives such a file. Per-token *mean* log-probs (what some
  tools report) do; the message says so.
- Files that cannot be analysed are refused with the reason: no log-probs (OpenRLHF's
  ``batch_inference`` output, TRL's ``BestOfNSampler`` results: the base model must score
  the completions), and preference files (``chosen`` / ``rejected``: the chosen completions
  were not drawn from the reference).
- Text: a prompt must not be blank; a completion may be empty (a model may stop at once) but
  not missing. CSV cells are read as text and then parsed, so ids stay as written (``01``,
  ``1`` and ``NA`` are three ids) and a bad number is shown as written.

Every problem raises :class:`ReferenceFileError` naming the file, the line (1-based lines of
the file, a CSV header being line 1; rows for Parquet), the prompt where there are several,
and what was expected, with quoted values cut to 60 characters; nothing is returned
half-checked.

:func:`load_user_file` is the ``reference`` stage's reader: one prompt's completions as a
probability vector, which must sum to 1 (a file that enumerates the support) unless
``normalize`` asks to treat the seen completions as the whole support.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bonkl.plumbing.formats import LAYOUTS, SampleFileError, Source, read_rows, shown

#: A prompt's seen mass may exceed 1 by this much (rounding of the file's log-probs).
SUM_TOLERANCE = 1e-6
#: The smallest probability the ``reference`` stage computes with (mpmath-checked down to it).
SMALLEST_MASS = 1e-300
MAX_COUNT = 2**53  # counts stay exact as doubles
#: Nats by which the log-probs of one completion, scored in different batches, may differ.
LOGPROB_TOLERANCE = 1e-3
#: Paper A's Fig. 4 rewards computed from the file.
REWARDS = ("loglik", "neg-length")
#: The columns of :func:`load_samples`' frame.
SAMPLES_COLUMNS = ["prompt", "completion", "logprob", "reward", "count"]
_LOGPROB_NAMES = ("logprob", "prob", "logprobs", "cumulative_logprob")
__all__ = ["Columns", "LAYOUTS", "LOGPROB_TOLERANCE", "REWARDS", "ReferenceFileError",
           "SAMPLES_COLUMNS", "SMALLEST_MASS", "SUM_TOLERANCE", "load_samples", "load_user_file"]

#: The error of every refused file (:class:`bonkl.plumbing.formats.SampleFileError`).
ReferenceFileError = SampleFileError


@dataclass(frozen=True)
class Columns:
    """Which columns hold what.

    ``outcome``: the completion (or an id); ``None`` takes ``completion`` if the file has it,
    else ``outcome``. ``logprob``: a column of natural-log probabilities; ``None`` takes
    whichever of ``logprob``, ``prob``, ``logprobs`` and ``cumulative_logprob`` the file has.
    ``reward``: a column, or one of :data:`REWARDS`.
    """

    prompt: str = "prompt"
    outcome: str | None = None
    logprob: str | None = None
    reward: str = "reward"
    count: str = "count"
    num_tokens: str = "num_tokens"


def load_samples(path: str | Path, columns: Columns = Columns(), *, layout: str = "auto",
                 tolerance: float = LOGPROB_TOLERANCE,
                 progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Read and validate a file of a model's samples: the canonical samples frame.

    Parameters
    ----------
    path
        The file (see the module doc and :mod:`bonkl.plumbing.formats`).
    columns
        Which columns hold what.
    layout
        ``auto`` (detected), ``rows``, ``vllm`` or ``openai``
        (:data:`~bonkl.plumbing.formats.LAYOUTS`).
    tolerance
        Nats by which duplicate rows' log-probs may differ (they are averaged).
    progress
        Called with a short message at each stage of a long file.

    Returns
    -------
    pandas.DataFrame
        One row per distinct (prompt, completion), prompts in first-seen order and each
        prompt's completions in first-seen order: ``prompt, completion, logprob, reward,
        count`` (:data:`SAMPLES_COLUMNS`). No normalisation.

    Examples
    --------
    >>> from bonkl.plumbing.userfile import load_samples
    >>> samples = load_samples("samples.jsonl")  # doctest: +SKIP
    >>> from bonkl import sampled  # doctest: +SKIP
    >>> sampled.summarize(sampled.analyze(samples, [1, 4, 16]))  # doctest: +SKIP
    """
    table, _, _ = _load(path, columns, layout, tolerance, progress)
    return table[SAMPLES_COLUMNS]


def load_user_file(path: str | Path, normalize: bool = False, columns: Columns = Columns(), *,
                   layout: str = "auto", tolerance: float = LOGPROB_TOLERANCE,
                   normalize_hint: str = "set 'normalize: true' to study these outcomes, "
                                         "rescaled, as a reference of their own",
                   prompts_hint: str = "the samples stage reads files of many prompts") \
        -> pd.DataFrame:
    """One prompt's completions as a reference distribution: ``outcome, prob, reward, count``.

    The probabilities must sum to 1 within :data:`SUM_TOLERANCE` (the file enumerates the
    support) unless ``normalize``, which treats the seen completions as the whole support;
    either way they are rescaled to sum to exactly 1 (in logs), and each must then be at
    least :data:`SMALLEST_MASS`. ``normalize_hint`` ends the message of a sum below 1,
    ``prompts_hint`` that of a file of several prompts, which is refused. The log of the seen
    mass (the sum before rescaling) is in ``attrs["log_seen_mass"]``.
    """
    table, source, column = _load(path, columns, layout, tolerance, None)
    prompts = table["prompt"].unique()
    if prompts.size > 1:
        source.fail(f"holds {prompts.size} prompts (column {columns.prompt!r}); expected one "
                    f"prompt ({prompts_hint})")
    logprob = table["logprob"].to_numpy()
    log_total = np.logaddexp.reduce(logprob)
    if not normalize and abs(math.expm1(log_total)) > SUM_TOLERANCE:
        source.fail(f"probabilities sum to {math.exp(log_total)!r}, expected 1 within "
                    f"{SUM_TOLERANCE}; the file holds samples, not every outcome with its "
                    f"probability; {normalize_hint}")
    prob = np.exp(logprob - log_total)
    tiny = np.flatnonzero(~(prob >= SMALLEST_MASS))
    if tiny.size:
        at = int(tiny[0])
        source.fail(f"{column!r} gives probability {float(prob[at])!r} after normalisation "
                    f"(log-prob {float(logprob[at])!r}); expected at least {SMALLEST_MASS!r}, the "
                    "smallest mass the study computes with (a log-probability at most about 690 "
                    "below the total)",
                    int(table["row"].iloc[at]))
    reference = pd.DataFrame({"outcome": table["completion"].to_numpy(), "prob": prob,
                              "reward": table["reward"].to_numpy(),
                              "count": table["count"].to_numpy()})
    reference.attrs["log_seen_mass"] = float(log_total)
    return reference


# --------------------------------------------------------------------------- the steps


def _load(path, columns: Columns, layout: str, tolerance: float, progress):
    """The merged table (``SAMPLES_COLUMNS`` and ``row``, the first row of each), the source
    and the log-prob column read."""
    started = time.perf_counter()
    if progress is not None and Path(path).is_file():
        progress(f"reading {Path(path).stat().st_size / 1e6:,.0f} MB")
    df, source, layout = read_rows(path, layout, progress)
    if progress is not None:
        progress(f"read {len(df):,} rows ({layout}) in {time.perf_counter() - started:.1f} s")
    df.columns = [str(c).strip() for c in df.columns]
    names = list(df.columns)
    if df.empty:
        source.fail("no data rows; expected at least one row")
    _refuse_unusable(source, names, columns)
    prob_column = _logprob_column(source, names, columns)
    computed = columns.reward in REWARDS
    outcome = columns.outcome or ("completion" if "completion" in names else "outcome")
    used = [prob_column, columns.prompt, outcome, columns.count, columns.num_tokens]
    if not computed:
        used.append(columns.reward)
    twice = sorted({c for c in used if names.count(c) > 1})
    if twice:
        source.fail(f"column {twice[0]!r} appears more than once; expected it once")
    if not computed and columns.reward not in names:
        source.fail(f"missing column {columns.reward!r} (the reward); found "
                    f"{_names(names)}")
    rows = {"logprob": _logprobs(source, df, prob_column)}
    rows["prompt"] = (_text(source, df, columns.prompt, False, "the prompt's text", True)
                      if columns.prompt in names else pd.Series([""] * len(df)).astype(str))
    if outcome in names:
        blank_ok = outcome != "outcome"  # an id must not be blank, a completion may
        rows["completion"] = _text(source, df, outcome, blank_ok, "the completion" if blank_ok
                                   else "an id (or drop the column)", False)
    else:
        rows["completion"] = pd.Series(np.arange(len(df))).astype(str)
    rows["count"] = (_integers(source, df, columns.count, 1, "a positive integer")
                     if columns.count in names else np.ones(len(df)))
    checks = []
    if not computed:
        rows["reward"] = _numeric(source, df, columns.reward)
        checks.append(("reward", "reward"))
    tokens = columns.num_tokens in names and df[columns.num_tokens].notna().any()
    if tokens:
        rows["num_tokens"] = _integers(source, df, columns.num_tokens, 0,
                                       "a non-negative integer")
        checks.append(("num_tokens", "num_tokens"))
    table = _merge(source, rows, tolerance, checks)
    if computed:
        table["reward"] = _computed_reward(source, columns.reward, outcome, table, names)
    _refuse_excess_mass(source, table, prob_column)
    if progress is not None:
        progress(f"{len(table):,} distinct completions of {table['prompt'].nunique():,} "
                 f"prompts, checked in {time.perf_counter() - started:.1f} s")
    return table, source, prob_column


def _names(names) -> str:
    return ", ".join(shown(n) for n in names[:20]) + (", …" if len(names) > 20 else "")


_SCORE = ("expected each completion's log-probability under the base (reference) model, summed "
          "over its tokens (a column 'logprob'; name another with --logprob-column or "
          "Columns(logprob=...)): score the completions with the base model first")


def _refuse_unusable(source: Source, names: list[str], columns: Columns) -> None:
    """Preference files, and files with no log-probs, with what they are and what is needed."""
    if "chosen" in names and "rejected" in names:
        source.fail("is a preference file (columns 'chosen' and 'rejected'); best-of-n needs "
                    "completions drawn from the reference model itself, and chosen "
                    "completions were not: sample the reference, with its log-probs, instead")
    if columns.logprob is not None or any(n in names for n in _LOGPROB_NAMES):
        return
    if "input" in names and "output" in names:
        found = ", ".join(repr(n) for n in ("input", "output", "reward") if n in names)
        what = f"looks like OpenRLHF's batch_inference output ({found}), which holds no log-probs"
    elif any(n.startswith(("response (best_of)", "scores (best_of)")) for n in names):
        what = "looks like TRL's BestOfNSampler results, which hold no log-probs"
    else:
        what = f"has no log-prob column (found {_names(names)})"
    source.fail(f"{what}; {_SCORE}")


def _logprob_column(source: Source, names: list[str], columns: Columns) -> str:
    if columns.logprob is not None:
        if columns.logprob not in names:
            source.fail(f"missing column {columns.logprob!r} (the log-probs); found "
                        f"{_names(names)}")
        return columns.logprob
    has = [c for c in _LOGPROB_NAMES if c in names]
    if len(has) != 1:
        source.fail("expected exactly one of the columns " + ", ".join(map(repr, _LOGPROB_NAMES))
                    + f"; found {_names(names)}")
    return has[0]


def _numeric(source: Source, df: pd.DataFrame, column: str) -> np.ndarray:
    try:
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    except (TypeError, ValueError):  # e.g. a column of lists
        source.fail(f"column {column!r} is of type {df[column].dtype}; expected numbers")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        source.fail(f"column {column!r} is {shown(df[column].iloc[row])}; expected a finite "
                    "number", row)
    return values


def _token_sums(source: Source, df: pd.DataFrame, column: str) -> np.ndarray:
    """A column whose cells may be lists of per-token log-probs: each list summed."""
    cells = df[column]
    if cells.dtype != object:
        return _numeric(source, df, column)
    lists = cells.map(lambda c: isinstance(c, list | tuple | np.ndarray)).to_numpy()
    if not lists.any():
        return _numeric(source, df, column)
    values = pd.to_numeric(cells.where(~lists), errors="coerce").to_numpy(dtype=float,
                                                                       copy=True)
    for i in np.flatnonzero(lists):
        tokens = list(cells.iat[i])
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in tokens):
            source.fail(f"column {column!r} holds the list {shown(tokens)}; expected finite "
                        "per-token log-probs", int(i))
        values[i] = math.fsum(tokens)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        source.fail(f"column {column!r} is {shown(cells.iat[int(bad[0])])}; expected a finite "
                    "number", int(bad[0]))
    return values


def _logprobs(source: Source, df: pd.DataFrame, column: str) -> np.ndarray:
    values = _token_sums(source, df, column)
    if column == "prob":
        bad = np.flatnonzero((values <= 0) | (values > 1))
        if bad.size:
            source.fail(f"'prob' is {shown(float(values[bad[0]]))}; expected a value in (0, 1]",
                        int(bad[0]))
        return np.log(values)
    bad = np.flatnonzero(values > 0)
    if bad.size:
        source.fail(f"{column!r} is {shown(float(values[bad[0]]))}; expected a log-probability "
                    "<= 0", int(bad[0]))
    return values


def _integers(source: Source, df, column: str, low: int, what: str) -> np.ndarray:
    values = _numeric(source, df, column)
    bad = np.flatnonzero((values < low) | (values > MAX_COUNT) | (values != np.round(values)))
    if bad.size:
        source.fail(f"{column!r} is {shown(float(values[bad[0]]))}; expected {what} up to 2^53",
                    int(bad[0]))
    return values


def _conversation(cell, prompt: bool):
    """TRL's conversational cell, a list of ``{"role", "content"}`` messages, as text: a
    prompt's messages as ``role: content`` lines, a completion's contents joined by newlines."""
    if isinstance(cell, list | tuple | np.ndarray) and all(isinstance(m, dict) for m in cell):
        if prompt:
            return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in cell)
        return "\n".join(str(m.get("content", "")) for m in cell)
    return cell


def _text(source: Source, df, column: str, blank_ok: bool, what: str, prompt: bool):
    """A text column as ``str``; missing cells (and blank ones unless ``blank_ok``) refused."""
    cells = df[column]
    if cells.dtype == object and cells.map(lambda c: isinstance(c, list | tuple | np.ndarray)
                                           ).any():
        cells = cells.map(lambda c: _conversation(c, prompt))
    missing = cells.isna().to_numpy()
    if not blank_ok:
        missing = missing | (cells.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        source.fail(f"{column!r} is {'missing' if blank_ok else 'blank'}; expected {what}",
                    int(np.flatnonzero(missing)[0]))
    return cells.astype(str).reset_index(drop=True)


def _computed_reward(source, reward: str, outcome: str, table: pd.DataFrame, names):
    """Paper A's Fig. 4 rewards: ``loglik`` = the log-prob; ``neg-length`` = minus
    ``num_tokens``, else minus the completion's length in characters."""
    if reward == "loglik":
        return table["logprob"].to_numpy()
    if "num_tokens" in table:
        return -table["num_tokens"].to_numpy()
    if outcome not in names:
        source.fail(f"the reward 'neg-length' needs a column {outcome!r} (the completion) or "
                    f"'num_tokens'; found {_names(names)}")
    return -table["completion"].str.len().to_numpy(dtype=float)


def _prompt(prompts: np.ndarray, at: int) -> str:
    """``prompt '...': `` for messages, when the file has several prompts or a named one."""
    if prompts[at] == "" and (prompts == "").all():
        return ""
    return f"prompt {shown(prompts[at])}: "


def _merge(source: Source, rows: dict, tolerance: float, checks) -> pd.DataFrame:
    """One row per (prompt, completion), prompts and completions in first-seen order: counts
    added, log-probs averaged (count-weighted) when within ``tolerance`` of the first row's,
    the ``checks`` columns equal to 1e-12 relative."""
    prompt_codes, _ = pd.factorize(rows["prompt"])
    completion_codes, _ = pd.factorize(rows["completion"])
    key = prompt_codes.astype(np.int64) * (completion_codes.max() + 1) + completion_codes
    codes, _ = pd.factorize(key)
    size = codes.max() + 1
    first = np.empty(size, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    mine = first[codes]
    count = rows["count"]
    logprob = rows["logprob"]
    for column, what, atol in [("logprob", "log-probability", tolerance)] + [
            (c, w, 0.0) for c, w in checks]:
        values = rows[column]
        clash = ~np.isclose(values, values[mine], rtol=1e-12, atol=atol)
        if clash.any():
            at = int(np.flatnonzero(clash)[0])
            beyond = f" (beyond the tolerance, {atol:g} nats)" if atol else ""
            source.fail(f"{_prompt(rows['prompt'].to_numpy(), at)}completion "
                        f"{shown(rows['completion'].iat[at])} appears again with a different "
                        f"{what}{beyond} than at {source.where(int(mine[at]))}: "
                        f"{shown(values[at])} against {shown(values[mine[at]])}; expected "
                        "identical completions of a prompt to agree", at)
    total = np.bincount(codes, weights=count, minlength=size)
    if (total > MAX_COUNT).any():
        at = int(np.flatnonzero(total > MAX_COUNT)[0])
        source.fail(f"the counts of completion {shown(rows['completion'].iat[first[at]])} add up "
                    "to more than 2^53; expected at most 2^53")
    base = logprob[first]
    shift = np.bincount(codes, weights=count * (logprob - base[codes]), minlength=size) / total
    order = np.lexsort((np.arange(size), prompt_codes[first]))  # prompt, then first seen
    at = first[order]
    table = pd.DataFrame({
        "prompt": rows["prompt"].take(at).reset_index(drop=True),
        "completion": rows["completion"].take(at).reset_index(drop=True),
        "logprob": (base + shift)[order],
        "reward": rows["reward"][at] if "reward" in rows else np.nan,
        "count": total[order].astype(np.int64),
        "row": at,
    })
    if "num_tokens" in rows:
        table["num_tokens"] = rows["num_tokens"][at]
    return table


def _refuse_excess_mass(source: Source, table: pd.DataFrame, prob_column: str) -> None:
    """A prompt whose distinct completions hold more than ``1 + SUM_TOLERANCE`` of the mass."""
    codes, _ = pd.factorize(table["prompt"])
    logprob = table["logprob"].to_numpy()
    top = np.full(codes.max() + 1, -np.inf)
    np.maximum.at(top, codes, logprob)
    log_mass = top + np.log(np.bincount(codes, weights=np.exp(logprob - top[codes])))
    over = np.flatnonzero(log_mass > math.log1p(SUM_TOLERANCE))
    if not over.size:
        return
    k = int(over[0])
    at = int(np.flatnonzero(codes == k)[0])
    cause = ("per-token mean log-probs instead of their sum over the completion's tokens"
             if prob_column != "prob" else
             "weights or scores rather than the probabilities of distinct completions")
    source.fail(f"{_prompt(table['prompt'].to_numpy(), at)}its {int((codes == k).sum())} "
                f"distinct completions hold a mass of {math.exp(log_mass[k]):.6g} "
                f"(Σ exp(logprob)), more than 1: no model gives these probabilities. The "
                f"likely cause: {cause}", int(table["row"].iloc[at]))
