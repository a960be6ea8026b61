"""A user's own samples as a reference: CSV or Parquet, validated row by row.

Columns: ``reward`` and exactly one of ``prob`` or ``logprob`` (natural log), both
required; ``outcome`` (an id; rows sharing it are one outcome) and ``count`` (how many
times that outcome was drawn, a positive integer) are optional; other columns are
ignored. This is what one saves from an LLM: per sampled output, its reference log-prob
and its reward. Rows with the same ``outcome`` must agree on probability and reward;
they are merged and their counts added. Probabilities must be positive and sum to 1
(within 1e-6) unless ``normalize`` is true, in which case they are rescaled to sum to 1
(in logs for ``logprob``). Outcome ids are text (``01`` and ``1`` differ) and may not
be blank. Any problem raises :class:`ReferenceFileError` naming the file, the row
(data rows counted from 1 after the header; blank lines are skipped and not counted)
and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logsumexp

SUM_TOLERANCE = 1e-6
_READERS = {
    ".csv": lambda path: pd.read_csv(path, dtype={"outcome": str}),
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
    if not path.is_file():
        _fail(path, "no such file")
    try:
        return reader(path)
    except pd.errors.EmptyDataError:
        _fail(path, "the file is empty; expected a header and at least one row")
    except UnicodeDecodeError:
        _fail(path, "is not UTF-8 text; save it as UTF-8", _first_undecodable_row(path))
    except Exception as err:  # noqa: BLE001 - any parser failure is the user's file
        _fail(path, f"cannot be read as {path.suffix[1:]}: {err}")


def _first_undecodable_row(path: Path) -> int | None:
    """0-based data row of the first line that is not UTF-8 (None for the header)."""
    for line_number, line in enumerate(path.read_bytes().splitlines()):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return line_number - 1 if line_number else None
    return None


def _numeric(path, df: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        _fail(path, f"column {column!r} is {df[column].iloc[row]!r}; expected a finite number", row)
    return values


def load_user_file(path: str | Path, normalize: bool = False) -> pd.DataFrame:
    """Read and validate a user's sample file; return ``outcome, prob, reward, count``."""
    path = Path(path)
    df = _read(path)
    df.columns = [str(c).strip() for c in df.columns]
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
        bad = np.flatnonzero((count < 1) | (count != np.round(count)))
        if bad.size:
            _fail(path, f"'count' is {float(count[bad[0]])!r}; expected a positive integer",
                  int(bad[0]))
    else:
        count = np.ones(len(df))
    outcome = _outcome_ids(path, df)
    table = _merge_duplicates(path, outcome, logprob, reward, count.astype(np.int64))
    total = logsumexp(table["logprob"].to_numpy())
    if not normalize and abs(np.expm1(total)) > SUM_TOLERANCE:
        _fail(
            path,
            f"probabilities sum to {np.exp(total)!r}, expected 1 within {SUM_TOLERANCE}; "
            "set 'normalize: true' for this reference to rescale them",
        )
    table["prob"] = np.exp(table.pop("logprob").to_numpy() - total)
    if not np.all(table["prob"] > 0):
        row = int(table["row"].to_numpy()[np.flatnonzero(~(table["prob"] > 0))[0]])
        _fail(path, f"{prob_column!r} underflows to probability 0 after normalisation "
              "(log-probability below about -745 relative to the total)", row)
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
    return merged.reset_index()
