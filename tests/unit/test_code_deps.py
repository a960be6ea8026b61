"""bonkl.pipeline.code_deps: the library files a pipeline script reaches, read from the code.

Rules list these files among their inputs, so what is in (and what is not) decides which
rules an edit reruns. The scripts here are written to a temporary folder and closed over the
real ``src/`` tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bonkl.pipeline.code_deps import library_files

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PACKAGE = SRC / "bonkl"


def reached(tmp_path: Path, code: str, *dynamic: str) -> set[str]:
    script = tmp_path / "script.py"
    script.write_text(code, encoding="utf-8")
    files = library_files(str(script), str(SRC), tuple(dynamic))
    assert list(files) == sorted(files)
    return {Path(f).relative_to(PACKAGE).as_posix() for f in files}


def test_one_module_reaches_only_itself_and_the_package(tmp_path):
    """``bonkl/__init__.py`` imports the public modules lazily, so a script that uses
    logspace does not depend on bestofn, tilt, ... (an edit to them reruns nothing here)."""
    assert reached(tmp_path, "from bonkl import logspace\n") == {"__init__.py", "logspace.py"}
    assert reached(tmp_path, "import bonkl.logspace\n") == {"__init__.py", "logspace.py"}


def test_imports_are_closed_transitively_and_stay_in_their_layer(tmp_path):
    files = reached(tmp_path, "from bonkl import tradeoff\n")
    assert {"__init__.py", "tradeoff.py", "bestofn.py", "tilt.py", "groups.py", "logspace.py",
            "divergence.py", "_arrays.py"} <= files
    assert not any(f.startswith(("rl/", "study/", "plots/", "plumbing/", "pipeline/"))
                   for f in files)
    assert "references.py" not in files and "memoryless.py" not in files


def test_subpackages_bring_their_init(tmp_path):
    files = reached(tmp_path, "from bonkl.plumbing.seeding import generator\n")
    assert files == {"__init__.py", "plumbing/__init__.py", "plumbing/seeding.py"}


def test_third_party_imports_are_not_followed(tmp_path):
    assert reached(tmp_path, "import numpy\nimport json\n") == set()


def test_dynamic_modules_are_closed_the_same_way(tmp_path):
    """A dispatcher imports its figure module by name at run time: passed as ``dynamic``."""
    plain = reached(tmp_path, "import importlib\n")
    assert plain == set()
    files = reached(tmp_path, "import importlib\n", "bonkl.plots.bestofn")
    assert {"plots/__init__.py", "plots/bestofn.py", "plots/style.py", "bestofn.py",
            "plumbing/tables.py"} <= files


def test_a_missing_dynamic_module_is_an_import_error(tmp_path):
    script = tmp_path / "dispatch.py"
    script.write_text("import importlib\n", encoding="utf-8")
    with pytest.raises(ImportError, match=r"bonkl\.plots\.no_such_stage"):
        library_files(str(script), str(SRC), ("bonkl.plots.no_such_stage",))


def test_a_missing_dynamic_module_names_the_script(tmp_path):
    script = tmp_path / "dispatch.py"
    script.write_text("import importlib\n", encoding="utf-8")
    with pytest.raises(ImportError, match=r"dispatch\.py: cannot find the module "
                                          r"'bonkl\.plots\.no_such_stage'"):
        library_files(str(script), str(SRC), ("bonkl.plots.no_such_stage",))


def test_a_real_pipeline_script(tmp_path):
    """scripts/reference.py builds references: it reaches the reference families and the
    user-file reader, and no stage's study or plotting code."""
    files = {Path(f).relative_to(PACKAGE).as_posix()
             for f in library_files(str(ROOT / "scripts" / "reference.py"), str(SRC))}
    assert {"references.py", "plumbing/userfile.py", "plumbing/runlog.py"} <= files
    assert not any(f.startswith(("plots/", "rl/")) for f in files)


def test_a_module_outside_the_source_folder_is_an_error(tmp_path):
    """A ``bonkl`` found elsewhere (a stale install on the path) would make the inputs lie."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "bonkl").mkdir(parents=True)
    (elsewhere / "bonkl" / "__init__.py").write_text("", encoding="utf-8")
    script = tmp_path / "script.py"
    script.write_text("import bonkl\n", encoding="utf-8")
    files = library_files(str(script), str(elsewhere))
    assert files == (str((elsewhere / "bonkl" / "__init__.py").resolve()),)
