"""Reading and writing the study's tables: byte-stable CSV, no NaN or inf ever written.

Floats are written with Python's shortest round-trip repr, so a table read back gives
the same doubles; line endings are ``\\n`` on every platform.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


class NonFiniteValueError(ValueError):
    """A table about to be written holds NaN or inf."""


def check_finite(df: pd.DataFrame, what: str) -> None:
    """Raise :class:`NonFiniteValueError` naming the column and row of the first NaN/inf."""
    for column in df.columns:
        values = df[column]
        if values.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(values.to_numpy())
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise NonFiniteValueError(
                f"{what}: column {column!r}, row {row}: value {values.iloc[row]!r} "
                "is not finite; refusing to write it"
            )


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` as CSV at ``path`` after :func:`check_finite`; nothing is written on error."""
    check_finite(df, str(path))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")


def read_table(path: str | Path) -> pd.DataFrame:
    """A table written by :func:`write_table`, as a DataFrame."""
    return pd.read_csv(path)


def read_labelled(paths, labels, column: str) -> pd.DataFrame:
    """The tables at ``paths`` stacked, each with its label in a last column ``column``."""
    return pd.concat([read_table(path).assign(**{column: label})
                      for path, label in zip(paths, labels, strict=True)], ignore_index=True)


def markdown_cell(value):
    """``value`` safe inside a Markdown table cell: ``|`` escaped as ``\\|`` (which
    GitHub and markdown-it-py read as a literal bar) and line breaks as spaces; non-strings
    are returned unchanged, so numbers keep their formatting."""
    if not isinstance(value, str):
        return value
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame) -> str:
    """``df`` as a GitHub Markdown table (floats to 6 significant digits), every text cell
    and header escaped by :func:`markdown_cell`, so a ``|`` in a statement cannot shift the
    cells."""
    escaped = df.rename(columns=markdown_cell)
    for column in escaped.columns:
        if not pd.api.types.is_numeric_dtype(escaped[column]):
            escaped[column] = escaped[column].map(markdown_cell)
    return escaped.to_markdown(index=False, floatfmt=".6g")


def write_markdown(df: pd.DataFrame, path: str | Path, title: str = "", note: str = "") -> None:
    """Write ``df`` as a GitHub Markdown table (:func:`markdown_table`) with an optional
    title and note."""
    check_finite(df, str(path))
    parts = [f"# {title}\n"] if title else []
    if note:
        parts.append(note.strip() + "\n")
    parts.append(markdown_table(df) + "\n")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(parts), encoding="utf-8")


def write_html(df: pd.DataFrame, path: str | Path, title: str = "", note: str = "") -> None:
    """Write ``df`` as a standalone HTML page (a styled table, a title and a note)."""
    check_finite(df, str(path))
    table = df.to_html(index=False, float_format=lambda x: f"{x:.6g}", border=0,
                       classes="ledger", escape=True)
    style = ("body{font-family:sans-serif;font-size:13px;margin:1em}"
             "table.ledger{border-collapse:collapse}"
             "table.ledger th,table.ledger td{border-bottom:1px solid #ddd;padding:3px 6px;"
             "text-align:left;vertical-align:top}")
    heading = f"<h1>{title}</h1>" if title else ""
    paragraph = f"<p>{note.strip()}</p>" if note else ""
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{style}</style></head>\n<body>{heading}{paragraph}\n{table}\n</body></html>\n")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(page, encoding="utf-8")


def write_table_views(df: pd.DataFrame, csv: str | Path, markdown: str | Path,
                      html: str | Path, title: str, note: str = "") -> None:
    """The table as CSV (machines), Markdown (the repository) and HTML (the report)."""
    write_table(df, csv)
    write_markdown(df, markdown, title=title, note=note)
    write_html(df, html, title=title, note=note)


def read_reference(path: str | Path) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``(p, r, table)`` from a reference table written by the ``reference`` stage."""
    table = pd.read_csv(path, dtype={"outcome": str})
    return table["prob"].to_numpy(float), table["reward"].to_numpy(float), table
