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
