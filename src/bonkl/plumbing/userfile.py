"""A user's own samples as a reference: CSV or Parquet, validated row by row.

Columns: ``reward`` and exactly one of ``prob`` or ``logprob`` (natural log), both
required; ``outcome`` (an id; rows sharing it are one outcome) and ``count`` (how many
times that outcome was drawn, a positive integer up to 2^53) are optional; other columns
are ignored, but none of these five may appear twice. This is what one saves from an LLM:
per sampled output, its reference log-prob and its reward.

What is normalised, and how:

- Rows with the same ``outcome`` are one outcome: they must agree on probability and
  reward (to 1e-12 relative), and merge into the first such row, their counts added.
- Probabilities must be positive and sum to 1 (within 1e-6) unless ``normalize`` is true;
  either way they are then rescaled to sum to exactly 1 (in logs for ``logprob``).
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

Any problem raises :class:`ReferenceFileError` naming the file, the row (data rows
counted from 1 after the header) where one is at fault, and what was expected; nothing
is returned half-checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp

SUM_TOLERANCE = 1e-6
SMALLEST_MASS = 1e-300  # the smallest mass the study computes with (tests: mpmath to 1e-300)
MAX_COUNT = 2**53  # counts stay exact as doubles
COLUMNS = ("outcome", "prob", "logprob", "reward", "count")
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
         b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _read_csv(path: Path) -> pd.DataFrame:
    """Every cell as text; the first line that is not blank holds the column names."""
    cells = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = cells.iloc[0].to_list()
    return frame


_READERS = {
    ".csv": _read_csv,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}


class ReferenceFileError(ValueError):
    """A user reference file that cannot be used, with the file, row and problem."""


def _fail(path, problem: str, row: int | None = None):
    where = f"{path}" if row is None else f"{path}, row {row + 1}"
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


def load_user_file(path: str | Path, normalize: bool = False) -> pd.DataFrame:
    """Read and validate a user's sample file; return ``outcome, prob, reward, count``."""
    path = Path(path)
    df = _read(path)
    df.columns = [str(c).strip() for c in df.columns]
    twice = sorted({c for c in df.columns if c in COLUMNS and list(df.columns).count(c) > 1})
    if twice:
        _fail(path, f"column {twice[0]!r} appears more than once; expected it once")
    if df.empty:
        _fail(path, "no data rows; expected at least one row")
    has = {c for c in ("prob", "logprob") if c in df.columns}
    if len(has) != 1:
        found = ", ".join(map(repr, df.columns))
        _fail(path, f"expected exactly one of the columns 'prob' or 'logprob'; found {found}")
    if "reward" not in df.columns:
        _fail(path, f"missing column 'reward'; found {', '.join(map(repr, df.columns))}")
    (prob_column,) = has
    values = _numeric(path, df, prob_column)
    reward = _numeric(path, df, "reward")
    if prob_column == "prob":
        bad = np.flatnonzero((values <= 0) | (values > 1))
        if bad.size:
            _fail(path, f"'prob' is {float(values[bad[0]])!r}; expected a value in (0, 1]",
                  int(bad[0]))
        logprob = np.log(values)
    else:
        bad = np.flatnonzero(values > 0)
        if bad.size:
            _fail(path, f"'logprob' is {float(values[bad[0]])!r}; expected a value <= 0",
                  int(bad[0]))
        logprob = values
    if "count" in df.columns:
        count = _numeric(path, df, "count")
        bad = np.flatnonzero((count < 1) | (count > MAX_COUNT) | (count != np.round(count)))
        if bad.size:
            _fail(path, f"'count' is {float(count[bad[0]])!r}; expected a positive integer up "
                  "to 2^53", int(bad[0]))
    else:
        count = np.ones(len(df))
    outcome = _outcome_ids(path, df)
    table = _merge_duplicates(path, outcome, logprob, reward, count)
    total = logsumexp(table["logprob"].to_numpy())
    if not normalize and abs(np.expm1(total)) > SUM_TOLERANCE:
        _fail(
            path,
            f"probabilities sum to {float(np.exp(total))!r}, expected 1 within {SUM_TOLERANCE}; "
            "set 'normalize: true' for this reference to rescale them",
        )
    table["prob"] = np.exp(table.pop("logprob").to_numpy() - total)
    tiny = np.flatnonzero(~(table["prob"].to_numpy() >= SMALLEST_MASS))
    if tiny.size:
        prob = float(table["prob"].iloc[tiny[0]])
        _fail(path, f"{prob_column!r} gives probability {prob!r} after normalisation; expected "
              f"at least {SMALLEST_MASS!r}, the smallest mass the study computes with (a "
              "log-probability at most about 690 below the total)", int(table["row"].iloc[tiny[0]]))
    return table[["outcome", "prob", "reward", "count"]]


def _outcome_ids(path, df: pd.DataFrame) -> np.ndarray:
    if "outcome" not in df.columns:
        return np.arange(len(df)).astype(str)
    ids = df["outcome"]
    blank = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        _fail(path, "'outcome' is blank; expected an id (or drop the column)",
              int(np.flatnonzero(blank)[0]))
    return ids.astype(str).to_numpy()


def _merge_duplicates(path, outcome, logprob, reward, count) -> pd.DataFrame:
    rows = pd.DataFrame({"outcome": outcome, "logprob": logprob, "reward": reward,
                         "count": count, "row": np.arange(outcome.size)})
    first = rows.groupby("outcome", sort=False).first()
    for column in ("logprob", "reward"):
        clash = ~np.isclose(rows[column].to_numpy(), first.loc[outcome, column].to_numpy(),
                            rtol=1e-12, atol=0.0)
        if clash.any():
            row = int(np.flatnonzero(clash)[0])
            other = int(first.loc[outcome[row], "row"])
            _fail(path, f"outcome {outcome[row]!r} appears again with a different {column} "
                  f"than at row {other + 1}", row)
    merged = first.copy()
    merged["count"] = rows.groupby("outcome", sort=False)["count"].sum()
    big = np.flatnonzero(merged["count"].to_numpy() > MAX_COUNT)
    if big.size:
        _fail(path, f"the counts of outcome {merged.index[big[0]]!r} add up to more than 2^53; "
              "expected at most 2^53")
    merged["count"] = merged["count"].astype(np.int64)
    return merged.reset_index()
