"""Tables: exact round trips, and NaN or inf refused before anything is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bonkl.plumbing.tables import NonFiniteValueError, read_table, write_markdown, write_table


def test_floats_round_trip_exactly(tmp_path):
    """Shortest round-trip reprs: every double comes back bit for bit, tiny ones included."""
    values = np.array([0.1, 1 / 3, 1e-300, 5e-324, np.nextafter(1.0, 0.0), 123456789.123456789])
    write_table(pd.DataFrame({"x": values}), tmp_path / "t.csv")
    assert np.array_equal(read_table(tmp_path / "t.csv")["x"].to_numpy(), values)
    assert b"\r" not in (tmp_path / "t.csv").read_bytes()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_is_refused_with_column_and_row(tmp_path, bad):
    """The message names the column and the row; no file is left behind."""
    frame = pd.DataFrame({"n": [1.0, 2.0, 3.0], "kl": [0.0, bad, 1.0]})
    with pytest.raises(NonFiniteValueError, match=r"column 'kl', row 1"):
        write_table(frame, tmp_path / "t.csv")
    with pytest.raises(NonFiniteValueError):
        write_markdown(frame, tmp_path / "t.md")
    assert not any(tmp_path.iterdir())


def test_markdown_has_title_note_and_every_row(tmp_path):
    frame = pd.DataFrame({"claim": ["a", "b"], "margin": [0.5, -1e-3]})
    write_markdown(frame, tmp_path / "t.md", title="Ledger", note="A note.")
    text = (tmp_path / "t.md").read_text()
    assert text.startswith("# Ledger\n") and "A note." in text
    assert "| a " in text and "| b " in text and "-0.001" in text


def markdown_rows(text: str) -> list[list[str]]:
    """Each row of the Markdown tables in ``text``, as markdown-it-py (which the docs use)
    parses it: the inline text of every cell."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows, row = [], None
    for token in tokens:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    return rows


def test_markdown_escapes_bars_so_cells_stay_put(tmp_path):
    """A `|` in a statement (`|gap|`, `|E_φ r|`) is escaped: markdown-it-py reads as many
    cells in every row as there are columns, each with its own text and the bar back in it.
    (Unescaped, the row has too many cells; the parser drops the extra ones, so the cells
    shift: the count alone cannot see it, the contents do.)"""
    frame = pd.DataFrame({"claim": ["a", "b|c"], "statement": ["|gap| <= 1", "x \\ y"],
                          "margin": [0.5, -1e-3]})
    write_markdown(frame, tmp_path / "t.md")
    rows = markdown_rows((tmp_path / "t.md").read_text())
    assert [len(row) for row in rows] == [3, 3, 3]
    assert rows[1][:2] == ["a", "|gap| <= 1"] and rows[2][0] == "b|c"
    unescaped = tmp_path / "raw.md"
    unescaped.write_text(frame.to_markdown(index=False))
    shifted = markdown_rows(unescaped.read_text())  # GitHub and markdown-it-py drop extra cells
    assert shifted[1][1] != "|gap| <= 1" and shifted[1][2] == "gap"  # the garbling, unescaped


def test_committed_ledger_parses_as_one_table():
    """figures/claims.md: one table, a header and one row per claim, every row with one cell
    per column, the claim names in their column and the status among the ledger's."""
    from pathlib import Path

    from bonkl.study.ledger import COLUMNS, STATUSES

    root = Path(__file__).resolve().parents[2]
    rows = markdown_rows((root / "figures" / "claims.md").read_text(encoding="utf-8"))
    assert rows[0] == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in rows), [r[:2] for r in rows
                                                            if len(r) != len(COLUMNS)]
    ledger = read_table(root / "figures" / "claims.csv")
    assert [row[1] for row in rows[1:]] == list(ledger["claim"])
    assert {row[3] for row in rows[1:]} <= set(STATUSES)
    assert {row[8] for row in rows[1:]} <= {"True", "False"}
