"""Sphinx configuration of the bonkl documentation (pydata theme, autodoc with napoleon,
MyST Markdown). Build with warnings as errors: ``sphinx-build -W -b html docs docs/_build``.
The API pages and the config reference are generated at build time by ``_ext/bonkl_docs.py``
from the docstrings and from ``config/schema.yaml``."""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "bonkl"
author = "the bonkl developers"
copyright = "2026, the bonkl developers"  # noqa: A001
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_parser",
    "bonkl_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

autodoc_default_options = {"members": True, "undoc-members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the docstrings state the types where they matter
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # dataclass fields: one :ivar: list, no twin of autodoc's members
napoleon_preprocess_types = True  # {"auto", "exact"} as literals; the aliases below resolve
napoleon_type_aliases = {
    "array_like": "numpy.typing.ArrayLike", "ndarray": "numpy.ndarray",
    "callable": "collections.abc.Callable", "Mapping": "collections.abc.Mapping",
}

nitpicky = True  # every cross-reference must resolve
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|pd|pandas|scipy|matplotlib|plt|sns|seaborn|jsonschema)(\..*)?"),
    (r"py:.*", r"(modulefinder|argparse|pathlib|collections\.abc|typing)\..*"),
]

html_theme = "pydata_sphinx_theme"
html_static_path = ["_ext/static"]  # bonkl.css, added by the bonkl_docs extension
html_title = "bonkl"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_last_updated_fmt = None
html_show_sourcelink = False
