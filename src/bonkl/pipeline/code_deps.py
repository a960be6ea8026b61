"""The library files a pipeline script runs: its ``bonkl`` imports, closed transitively.

A rule lists these files among its inputs, so that editing a module reruns exactly the
rules whose scripts reach it. The closure is read from the code by the standard library's
:class:`modulefinder.ModuleFinder`, started from the script and searching only the
library's source folder (third-party imports are not followed). Modules a dispatcher
script imports by name at run time (``import_module(f"bonkl.plots.style.{name}")``) are passed
as ``dynamic`` and closed the same way.
"""

from __future__ import annotations

from functools import cache
from modulefinder import ModuleFinder
from pathlib import Path


@cache
def library_files(script: str, src: str, dynamic: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Sorted source files of every ``bonkl`` module that ``script`` (and ``dynamic``) reach.

    ``src`` is the folder holding the ``bonkl`` package. Package ``__init__.py`` files are
    included: Python runs them on the way to any of their modules.
    """
    finder = ModuleFinder(path=[src])
    finder.run_script(script)
    for name in dynamic:
        try:
            found = finder.import_hook(name)
        except ImportError:
            found = None
        if found is None:
            raise ImportError(f"{script}: cannot find the module {name!r} under {src}")
    root = Path(src).resolve() / "bonkl"
    files = {
        Path(module.__file__).resolve()
        for name, module in finder.modules.items()
        if (name == "bonkl" or name.startswith("bonkl.")) and module.__file__
    }
    outside = [str(f) for f in files if not f.is_relative_to(root)]
    if outside:
        raise ImportError(f"{script}: bonkl modules found outside {root}: {outside}")
    return tuple(sorted(str(f) for f in files))
