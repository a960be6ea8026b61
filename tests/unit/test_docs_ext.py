"""docs/_ext/bonkl_docs.py, the generated parts of the docs: the API index puts exactly
``bonkl.__all__`` under "The public mathematics" and every other module under its role, each
entry with its one-line summary; the config reference is a list-table whose cells cannot turn
into block quotes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs" / "_ext"))
bonkl_docs = importlib.import_module("bonkl_docs")

import bonkl  # noqa: E402


def role_of(name: str) -> str:
    return next(heading for heading, _, belongs in bonkl_docs.LAYERS if belongs(name))


def test_the_public_mathematics_is_exactly_bonkl_all():
    names = bonkl_docs.modules()
    public = [n for n in names if n != "bonkl" and role_of(n) == "The public mathematics"]
    assert sorted(public) == sorted(f"bonkl.{m}" for m in bonkl.__all__)
    for package in ("bonkl.rl", "bonkl.study", "bonkl.plots", "bonkl.plumbing",
                    "bonkl.pipeline"):
        assert role_of(package) != "The public mathematics"
        assert role_of(package).endswith(package)
    assert role_of("bonkl.cli") == "The command line"
    assert not any(part.startswith("_") for n in names for part in n.split("."))


def test_every_module_has_a_role():
    assert all(role_of(n) for n in bonkl_docs.modules() if n != "bonkl")


def test_summaries_are_one_line_and_context_free():
    from bonkl.rl import adam

    assert bonkl_docs.summary(bonkl.tilt) == ("Exponential tilts of a reference: the "
                                              "KL-constrained optimum and the KL-regularised "
                                              "targets.")
    assert ":meth:" not in bonkl_docs.summary(adam.Adam)  # out of its class it cannot resolve
    rows = bonkl_docs.member_table(bonkl.rewind)
    assert rows[0] == ".. list-table::"
    assert "   * - :py:func:`~bonkl.rewind.kl`" in rows
    entries = [line for line in rows if line.startswith("   * - ")]
    assert len(entries) == len(bonkl.rewind.__all__)


def test_config_reference_cells():
    assert bonkl_docs._list_table_row(("`a.b`", "number", "> 0", "", "x")) == [
        "* - `a.b`", "  - number", "  - \\> 0", "  -", "  - x"]
