"""Check a reproduction: every published table against the committed one, cell by cell.

``bonkl verify`` (after ``snakemake --cores 8``) compares each CSV table of the committed
``figures/`` (a git revision, ``HEAD`` by default, or another directory) with the freshly
written one, numerically: bytes may differ in the last digits between machines and library
versions while the numbers agree. Two numeric cells agree when

.. math:: |a - b| \\le \\mathrm{rtol} \\cdot \\max(|a|, |b|)

or, for values that cancel towards zero, when :math:`|a - b| \\le \\mathrm{rtol}` times the
largest magnitude in that column of the committed table (so ``1e-17`` against ``-2e-17`` in a
column of values near 1 agrees). NaN agrees only with NaN, infinities only with themselves.
Every other cell must be equal as text, except a ledger row's ``worst_case`` label, which may
move when its ``worst_margin`` agrees (the worst of several cases tied at the noise floor);
the ledger's ``holds`` column is compared exactly, as text.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: The default relative tolerance of :func:`compare_tables`.
RTOL = 1e-9
#: Columns whose text may differ when the named numeric column agrees.
TIED_LABELS = {"worst_case": "worst_margin"}


@dataclass(frozen=True)
class TableCheck:
    """The verdict on one table: ``status`` is ``reproduced``, ``differs``, ``missing`` (no
    fresh table) or ``new`` (no committed one); ``largest`` the largest relative difference
    of its numeric cells (0 when equal, infinite when the shapes differ); ``detail`` the first
    disagreement, if any."""

    name: str
    status: str
    largest: float = 0.0
    detail: str = ""


def _numeric(column: pd.Series) -> np.ndarray | None:
    """The column as floats, or None if any non-empty cell is not a number."""
    values = pd.to_numeric(column, errors="coerce")
    if (values.isna() & column.notna() & (column.astype(str).str.strip() != "")).any():
        return None
    return values.to_numpy(float)


def compare_tables(committed: pd.DataFrame, fresh: pd.DataFrame, rtol: float = RTOL,
                   name: str = "table") -> TableCheck:
    """Compare two tables read as text (``dtype=str``, ``keep_default_na=False``) cell by
    cell; see the module doc for the rule."""
    if list(committed.columns) != list(fresh.columns):
        return TableCheck(name, "differs", np.inf,
                          f"columns {list(fresh.columns)}, committed {list(committed.columns)}")
    if len(committed) != len(fresh):
        return TableCheck(name, "differs", np.inf,
                          f"{len(fresh)} rows, committed {len(committed)}")
    largest, detail, agree_numeric = 0.0, "", {}
    for column in committed.columns:
        old, new = _numeric(committed[column]), _numeric(fresh[column])
        if old is None or new is None:
            continue
        with np.errstate(invalid="ignore"):
            gap = np.abs(old - new)
            size = np.maximum(np.abs(old), np.abs(new))
            scale = np.nanmax(np.abs(old[np.isfinite(old)]), initial=0.0)
            same = (old == new) | (np.isnan(old) & np.isnan(new))
            relative = np.where(same, 0.0, gap / np.where(size > 0, size, 1.0))
            ok = same | (gap <= rtol * size) | (gap <= rtol * scale)
        agree_numeric[column] = ok
        finite = np.isfinite(relative)
        if finite.any():
            largest = max(largest, float(relative[finite].max()))
        if not ok.all() and not detail:
            row = int(np.flatnonzero(~ok)[0])
            detail = (f"column {column!r}, row {row + 1}: {fresh[column].iloc[row]} "
                      f"(committed {committed[column].iloc[row]})")
    for column in committed.columns:
        if column in agree_numeric:
            continue
        differs = (committed[column] != fresh[column]).to_numpy().copy()
        partner = TIED_LABELS.get(column)
        if partner in agree_numeric:
            differs &= ~agree_numeric[partner]
        if differs.any() and not detail:
            row = int(np.flatnonzero(differs)[0])
            detail = (f"column {column!r}, row {row + 1}: {fresh[column].iloc[row]!r} "
                      f"(committed {committed[column].iloc[row]!r})")
    status = "differs" if detail else "reproduced"
    return TableCheck(name, status, largest, detail)


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def committed_tables(directory: Path, against: str) -> dict[str, str]:
    """The committed CSV tables of ``directory``: from the git revision ``against``, or, if
    ``against`` is an existing directory, from its CSV files. Maps file name to text."""
    source = Path(against)
    if source.is_dir():
        return {p.name: p.read_text("utf-8") for p in sorted(source.glob("*.csv"))}
    top = subprocess.run(["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True, check=True).stdout.strip()
    relative = Path(directory).resolve().relative_to(Path(top).resolve())
    listing = subprocess.run(["git", "-C", top, "ls-tree", "--name-only", f"{against}:{relative}"],
                             capture_output=True, text=True, check=True).stdout.split()
    return {name: subprocess.run(["git", "-C", top, "show", f"{against}:{relative}/{name}"],
                                 capture_output=True, text=True, check=True).stdout
            for name in listing if name.endswith(".csv")}


def verify(directory: Path, against: str = "HEAD", rtol: float = RTOL) -> list[TableCheck]:
    """Check every CSV table of ``directory`` against its committed version (see
    :func:`committed_tables`); one :class:`TableCheck` per table, committed or fresh."""
    directory = Path(directory)
    committed = committed_tables(directory, against)
    fresh = {p.name: p for p in sorted(directory.glob("*.csv"))}
    checks = []
    for name in sorted(set(committed) | set(fresh)):
        if name not in fresh:
            checks.append(TableCheck(name, "missing", np.inf, "not written by the run"))
        elif name not in committed:
            checks.append(TableCheck(name, "new", 0.0, "no committed table to compare with"))
        else:
            checks.append(compare_tables(_read(committed[name]),
                                         _read(fresh[name].read_text("utf-8")), rtol, name))
    return checks


def report(checks: list[TableCheck], rtol: float) -> str:
    """A one-screen verdict: a line per table that did not reproduce exactly, then totals."""
    lines = []
    for check in checks:
        if check.status == "reproduced" and check.largest == 0.0:
            continue
        largest = "-" if not np.isfinite(check.largest) else f"{check.largest:.1e}"
        lines.append(f"{check.status:10s} {check.name}  largest relative difference "
                     f"{largest}{'  ' + check.detail if check.detail else ''}")
    counts = pd.Series([c.status for c in checks]).value_counts()
    exact = sum(c.status == "reproduced" and c.largest == 0.0 for c in checks)
    lines.append(f"{counts.get('reproduced', 0)} of {len(checks)} tables reproduced within "
                 f"rtol = {rtol:g} ({exact} cell for cell exactly); "
                 f"{counts.get('differs', 0)} differ, {counts.get('missing', 0)} missing, "
                 f"{counts.get('new', 0)} new")
    return "\n".join(lines)
