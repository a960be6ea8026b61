"""A user's own samples: CSV, Parquet or JSON Lines, one or many prompts, validated row by row.

One row (in JSON Lines one object per line) per sample, as one saves them from an LLM:
its prompt, its completion, its reference log-probability and its reward. Columns (their
names are :class:`Columns`; the defaults are those of the ``reference`` stage's files):

- ``prob`` or ``logprob`` (natural log), exactly one, required;
- ``reward``, required unless the reward is computed (:data:`REWARDS`, paper A, Fig. 4):
  ``loglik`` is the reference log-probability, ``neg-length`` minus the completion's
  length in characters, or minus ``num_tokens`` when that column is present;
- ``completion`` or ``outcome`` (rows sharing it within a prompt are one outcome), optional:
  without it every row is its own outcome;
- ``prompt``, optional: without it the file is one prompt (named ``""``);
- ``count`` (how many times that row's outcome was drawn, a positive integer up to 2^53),
  ``num_tokens`` (a non-negative integer), optional; other columns are ignored, but none of
  the used ones may appear twice.

What is normalised, and how, prompt by prompt:

- Rows with the same prompt and outcome are one outcome: their log-probabilities must agree
  within :data:`LOGPROB_TOLERANCE` (absolute, nats, plus 1e-12 relative) and their rewards
  and ``num_tokens`` to 1e-12 relative; they merge into the first such row, counts added
  (each row counts 1 without a ``count`` column).
- Each prompt's probabilities must be positive and sum to 1 (within 1e-6) unless
  ``normalize`` is true; either way they are then rescaled to sum to exactly 1 (in logs).
  ``normalize`` is what a file of sampled outputs needs: their probabilities cover only
  the sampled part of the space.
- After rescaling, every probability must be at least 1e-300 (:data:`SMALLEST_MASS`, a
  log-probability about 690 below the total), the smallest mass the study's numerics are
  checked at; a smaller one is refused with its row.
- CSV: UTF-8 text (a byte-order mark is fine); cells are read as text and then parsed, so
  outcome ids stay as written (``01``, ``1`` and ``NA`` are three different ids; an empty
  id is refused) and a bad number is shown as written; spaces around numbers and around
  column names are ignored; blank lines are skipped and not counted; a row with more
  cells than the header is refused.
- JSON Lines (``.jsonl``, ``.ndjson``): UTF-8, each line not blank a JSON object; a key an
  object lacks is a missing value. Messages name lines, not rows. A prompt must not be
  blank; a completion may be empty (a model may stop at once), but not missing.

Any problem raises :class:`ReferenceFileError` naming the file, the row or line where one
is at fault, the prompt where there are several, and what was expected; nothing is
returned half-checked. The one message that says how to fix a setting (probabilities not
summing to 1) takes its wording from the caller (``normalize_hint``), since a config and
a command line are fixed differently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SUM_TOLERANCE = 1e-6
#: The smallest probability the study computes with (checked against mpmath down to it).
SMALLEST_MASS = 1e-300  # the smallest mass the study computes with (tests: mpmath to 1e-300)
MAX_COUNT = 2**53  # counts stay exact as doubles
#: Nats by which two rows of one completion's log-probability may differ.
LOGPROB_TOLERANCE = 1e-6  # nats: log-probs of one completion computed in different batches
#: Paper A's Fig. 4 rewards computed from the file itself.
REWARDS = ("loglik", "neg-length")  # paper A, Fig. 4: rewards computed from the file
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
         b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; the first line that is not blank holds the column names."""
    cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = cells.iloc[0].to_list()
    return frame


def _read_jsonl(path: Path) -> pd.DataFrame:
    """One JSON object per line that is not blank; keeps each object's line number."""
    records, lines = [], []
    with path.open(encoding="utf-8-sig") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                _fail(path, f"line {number} is not JSON ({err.msg}); expected one JSON object "
                      "per line")
            if not isinstance(record, dict):
                _fail(path, f"line {number} is a JSON {type(record).__name__}, not an object; "
                      "expected one JSON object per line")
            records.append(record)
            lines.append(number)
    if not records:
        raise pd.errors.EmptyDataError
    frame = pd.DataFrame.from_records(records)
    frame.attrs["lines"] = lines
    return frame


_READERS = {
    ".csv": _read_csv,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
}


class ReferenceFileError(ValueError):
    """A user reference file that cannot be used, with the file, row and problem."""


class _Source:
    """The file in messages, with where a data row sits: ``row k`` (1-based data rows) or,
    for JSON Lines, the ``line`` of the file."""

    def __init__(self, path: Path, lines=None):
        self.path, self.lines = path, lines

    def __str__(self) -> str:
        return str(self.path)

    def where(self, row: int) -> str:
        return f"row {row + 1}" if self.lines is None else f"line {self.lines[row]}"


def _fail(path, problem: str, row: int | None = None):
    if row is None:
        where = f"{path}"
    else:
        where = f"{path}, {path.where(row) if isinstance(path, _Source) else f'row {row + 1}'}"
    raise ReferenceFileError(f"{where}: {problem}")


def _read(path: Path) -> pd.DataFrame:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        _fail(path, f"unknown file type {path.suffix!r}; expected one of {sorted(_READERS)}")
    if not path.exists():
        _fail(path, "no such file")
    if not path.is_file():
        _fail(path, "is not a file")
    try:
        return reader(path)
    except ReferenceFileError:
        raise
    except pd.errors.EmptyDataError:
        _fail(path, "the file is empty; expected a header and at least one row")
    except UnicodeDecodeError:
        _fail(path, _not_utf8(path), _first_undecodable_row(path))
    except pd.errors.ParserError as err:
        cells = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if cells is None:
            _fail(path, f"cannot be read as CSV: {str(err).strip()}")
        expected, line, seen = cells.groups()
        _fail(path, f"line {line} of the file has {seen} cells; expected {expected}, one per "
              "column name of the header")
    except Exception as err:  # noqa: BLE001 - any parser failure is the user's file
        _fail(path, f"cannot be read as {path.suffix[1:]}: {str(err).strip()}")


def _not_utf8(path: Path) -> str:
    with path.open("rb") as stream:
        head = stream.read(4)
    found = next((name for bom, name in _BOMS.items() if head.startswith(bom)), None)
    return (f"is {found} text, not UTF-8; save it as UTF-8" if found
            else "is not UTF-8 text; save it as UTF-8")


def _first_undecodable_row(path: Path) -> int | None:
    """0-based data row of the first line that is not UTF-8 (None for the header).

    Blank lines are not counted, as in the rows of every other message."""
    row = -1
    for line in path.read_bytes().splitlines():
        try:
            if not line.decode("utf-8").strip():
                continue
        except UnicodeDecodeError:
            return row if row >= 0 else None
        row += 1
    return None


def _shown(value) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _numeric(path, df: pd.DataFrame, column: str) -> np.ndarray:
    try:
        values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    except (TypeError, ValueError):  # e.g. a Parquet column of lists
        _fail(path, f"column {column!r} is of type {df[column].dtype}; expected numbers")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        _fail(path, f"column {column!r} is {_shown(df[column].iloc[row])}; expected a finite "
              "number", row)
    return values




def _integers(path, df: pd.DataFrame, column: str, low: int, what: str) -> np.ndarray:
    values = _numeric(path, df, column)
    bad = np.flatnonzero((values < low) | (values > MAX_COUNT) | (values != np.round(values)))
    if bad.size:
        _fail(path, f"{column!r} is {float(values[bad[0]])!r}; expected {what} up to 2^53",
              int(bad[0]))
    return values


def _text(path, df: pd.DataFrame, column: str, blank_ok: bool, what: str) -> np.ndarray:
    """A text column as ``str``; missing cells (and blank ones unless ``blank_ok``) refused."""
    cells = df[column]
    missing = cells.isna().to_numpy()
    if not blank_ok:
        missing = missing | (cells.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        _fail(path, f"{column!r} is {'missing' if blank_ok else 'blank'}; expected {what}",
              int(np.flatnonzero(missing)[0]))
    return cells.astype(str).to_numpy()


@dataclass(frozen=True)
class Columns:
    """Which columns hold what.

    ``outcome``: the completion (or an id); ``None`` takes ``completion`` if the file has it,
    else ``outcome``. ``logprob``: a column of natural-log probabilities; ``None`` takes
    whichever of ``logprob`` and ``prob`` the file has. ``reward``: a column, or one of
    :data:`REWARDS`.
    """

    prompt: str = "prompt"
    outcome: str | None = None
    logprob: str | None = None
    reward: str = "reward"
    count: str = "count"
    num_tokens: str = "num_tokens"


def load_samples(path: str | Path, columns: Columns = Columns(), normalize: bool = False,
                 normalize_hint: str = "set 'normalize: true' for this reference") -> pd.DataFrame:
    """Read and validate a sample file (see the module doc); one row per outcome of each prompt.

    Returns ``prompt, outcome, prob, reward, count, row`` in first-seen order (``row``: the
    0-based data row where the outcome first appears). ``normalize_hint`` ends the message
    for a prompt whose probabilities do not sum to 1.
    """
    path = Path(path)
    df = _read(path)
    path = _Source(path, df.attrs.get("lines"))
    df.columns = [str(c).strip() for c in df.columns]
    names = list(df.columns)
    if df.empty:
        _fail(path, "no data rows; expected at least one row")
    if columns.logprob is None:
        has = [c for c in ("prob", "logprob") if c in names]
        if len(has) != 1:
            _fail(path, "expected exactly one of the columns 'prob' or 'logprob'; found "
                  + ", ".join(map(repr, names)))
        (prob_column,) = has
    else:
        prob_column = columns.logprob
    computed = columns.reward in REWARDS
    outcome = columns.outcome or ("completion" if "completion" in names else "outcome")
    used = [prob_column, columns.prompt, outcome, columns.count, columns.num_tokens]
    if not computed:
        used.append(columns.reward)
    twice = sorted({c for c in used if names.count(c) > 1})
    if twice:
        _fail(path, f"column {twice[0]!r} appears more than once; expected it once")
    for column in [prob_column] + ([] if computed else [columns.reward]):
        if column not in names:
            _fail(path, f"missing column {column!r}; found {', '.join(map(repr, names))}")
    values = _numeric(path, df, prob_column)
    if prob_column == "prob":
        bad = np.flatnonzero((values <= 0) | (values > 1))
        if bad.size:
            _fail(path, f"'prob' is {float(values[bad[0]])!r}; expected a value in (0, 1]",
                  int(bad[0]))
        logprob = np.log(values)
    else:
        bad = np.flatnonzero(values > 0)
        if bad.size:
            _fail(path, f"{prob_column!r} is {float(values[bad[0]])!r}; expected a value <= 0",
                  int(bad[0]))
        logprob = values
    rows = pd.DataFrame({"logprob": logprob, "row": np.arange(len(df))})
    rows["prompt"] = (_text(path, df, columns.prompt, False, "the prompt's text")
                      if columns.prompt in names else "")
    if outcome in names:
        blank_ok = outcome != "outcome"  # an id must not be blank, a completion may
        rows["outcome"] = _text(path, df, outcome, blank_ok,
                                "the completion" if blank_ok else "an id (or drop the column)")
    else:
        rows["outcome"] = rows["row"].astype(str)
    rows["count"] = (_integers(path, df, columns.count, 1, "a positive integer")
                     if columns.count in names else 1.0)
    tokens = columns.num_tokens in names
    if tokens:
        rows["num_tokens"] = _integers(path, df, columns.num_tokens, 0, "a non-negative integer")
    checks = [("logprob", LOGPROB_TOLERANCE, "log-probability")]
    if not computed:
        rows["reward"] = _numeric(path, df, columns.reward)
        checks.append(("reward", 0.0, "reward"))
    if tokens:
        checks.append(("num_tokens", 0.0, "num_tokens"))
    table = _merge_duplicates(path, rows, checks)
    if computed:  # from the merged outcomes: the first row's log-prob, the completion
        table["reward"] = _computed_reward(path, columns.reward, outcome, table, df.columns)
    codes = pd.factorize(table["prompt"])[0]
    log_total = _log_totals(table["logprob"].to_numpy(), codes)
    if not normalize:
        off = np.flatnonzero(np.abs(np.expm1(log_total)) > SUM_TOLERANCE)
        if off.size:
            first = np.flatnonzero(codes == off[0])[0]
            _fail(path, f"{_prompt(table, first)}probabilities sum to "
                  f"{float(np.exp(log_total[off[0]]))!r}, expected 1 within {SUM_TOLERANCE}; "
                  f"{normalize_hint} to rescale them")
    table["prob"] = np.exp(table.pop("logprob").to_numpy() - log_total[codes])
    tiny = np.flatnonzero(~(table["prob"].to_numpy() >= SMALLEST_MASS))
    if tiny.size:
        at = tiny[0]
        _fail(path, f"{_prompt(table, at)}{prob_column!r} gives probability "
              f"{float(table['prob'].iloc[at])!r} after normalisation; expected at least "
              f"{SMALLEST_MASS!r}, the smallest mass the study computes with (a "
              "log-probability at most about 690 below the total)", int(table["row"].iloc[at]))
    return table[["prompt", "outcome", "prob", "reward", "count", "row"]]


def load_user_file(path: str | Path, normalize: bool = False) -> pd.DataFrame:
    """One prompt's samples as a reference: ``outcome, prob, reward, count``
    (:func:`load_samples` with the default columns; a file of several prompts is refused)."""
    table = load_samples(path, normalize=normalize)
    prompts = table["prompt"].unique()
    if prompts.size > 1:
        _fail(path, f"holds {prompts.size} prompts (column 'prompt'); expected one prompt per "
              "reference file (the samples stage reads files of many prompts)")
    return table[["outcome", "prob", "reward", "count"]].reset_index(drop=True)


def _prompt(table: pd.DataFrame, at: int) -> str:
    """``prompt '...': `` for messages, when the file has a prompt column."""
    prompt = table["prompt"].iloc[at]
    if prompt == "" and table["prompt"].nunique() == 1:
        return ""
    return f"prompt {prompt[:60] + ('…' if len(prompt) > 60 else '')!r}: "


def _computed_reward(path, reward: str, outcome: str, table: pd.DataFrame, names) -> np.ndarray:
    """Paper A's Fig. 4 rewards: ``loglik`` = the reference log-probability; ``neg-length`` =
    minus ``num_tokens``, else minus the completion's length in characters."""
    if reward == "loglik":
        return table["logprob"].to_numpy()
    if "num_tokens" in table:
        return -table["num_tokens"].to_numpy()
    if outcome not in names:
        _fail(path, f"the reward 'neg-length' needs a column {outcome!r} (the completion) or "
              "'num_tokens'; found " + ", ".join(map(repr, names)))
    return -table["outcome"].str.len().to_numpy(dtype=float)


def _log_totals(logprob: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``log Σ p`` per prompt code, as a log-sum-exp around each prompt's largest term."""
    top = np.full(codes.max() + 1, -np.inf)
    np.maximum.at(top, codes, logprob)
    scaled = np.bincount(codes, weights=np.exp(logprob - top[codes]))
    return top + np.log(scaled)


def _merge_duplicates(path, rows: pd.DataFrame, checks) -> pd.DataFrame:
    """One row per (prompt, outcome), the first seen, counts added; the others must agree on
    each ``(column, absolute tolerance, name)`` of ``checks`` (and to 1e-12 relative)."""
    key = ["prompt", "outcome"]
    first = rows.groupby(key, sort=False).first()
    index = pd.MultiIndex.from_frame(rows[key])
    for column, atol, what in checks:
        mine = rows[column].to_numpy()
        theirs = first[column].reindex(index).to_numpy()
        clash = ~np.isclose(mine, theirs, rtol=1e-12, atol=atol)
        if clash.any():
            at = int(np.flatnonzero(clash)[0])
            other = int(first["row"].reindex(index).iloc[at])
            tolerance = f" (beyond {atol:g} nats)" if atol else ""
            _fail(path, f"{_prompt(rows, at)}outcome {rows['outcome'].iloc[at]!r} appears again "
                  f"with a different {what}{tolerance} than at {path.where(other)}: "
                  f"{_shown(mine[at])} against {_shown(theirs[at])}; expected identical "
                  "completions of a prompt to agree", at)
    merged = first.copy()
    merged["count"] = rows.groupby(key, sort=False)["count"].sum()
    big = np.flatnonzero(merged["count"].to_numpy() > MAX_COUNT)
    if big.size:
        _fail(path, f"the counts of outcome {merged.index[big[0]][1]!r} add up to more than "
              "2^53; expected at most 2^53")
    merged["count"] = merged["count"].astype(np.int64)
    return merged.reset_index()
