"""The public mathematics documents itself: every module's examples run as doctests, every
public function has numpydoc sections, a formula in ``.. math::`` and the paper's arXiv id
where it implements a paper, and ``__all__`` names exactly the public functions and classes.
``import bonkl`` exposes the modules (lazily: it imports no SciPy, pandas or matplotlib)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys

import pytest

import bonkl

MODULES = [importlib.import_module(f"bonkl.{name}") for name in bonkl.__all__]
ARXIV = {"bestofn": "2401.01879", "rewind": "2401.01879", "tradeoff": "2401.01879",
         "groups": "2401.01879", "references": "2401.01879", "memoryless": "2404.01730",
         "tilt": "2404.01730", "mara": "2510.20817", "collapse": "2510.20817",
         "sampled": "2401.01879", "reward_laws": "2401.01879"}
SECTIONS = ("Returns\n", "Notes\n", "Examples\n")


@pytest.mark.parametrize("module", [bonkl, *MODULES], ids=lambda m: m.__name__)
def test_examples_run(module):
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    failed, attempted = doctest.testmod(module, optionflags=flags, verbose=False)
    assert attempted > 0 and failed == 0


def _public(module):
    return {name for name, value in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module.__name__}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_names_the_public_functions(module):
    assert _public(module) <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_numpydoc_sections_math_and_sources(module):
    short = module.__name__.split(".")[-1]
    for name in sorted(_public(module)):
        doc = inspect.getdoc(getattr(module, name))
        assert doc and ">>> " in doc, f"{module.__name__}.{name}: no example"
        if inspect.isfunction(getattr(module, name)):
            missing = [s.strip() for s in SECTIONS if s not in doc]
            assert not missing, f"{module.__name__}.{name}: no {missing}"
            assert ".. math::" in doc, f"{module.__name__}.{name}: no formula in .. math::"
    if short in ARXIV:
        assert f"arXiv:{ARXIV[short]}" in inspect.getdoc(module)


def test_import_bonkl_is_cheap_and_exposes_the_modules():
    """Snakemake parses bonkl.pipeline (so runs bonkl/__init__) for every invocation, and
    code_deps follows its static imports: the modules load on first attribute access."""
    code = ("import sys, bonkl; heavy = [m for m in ('scipy', 'pandas', 'matplotlib', "
            "'snakemake') if m in sys.modules]; assert not heavy, heavy; "
            "assert round(bonkl.bestofn.kl([0.5, 0.5], [0, 1], 2), 6) == 0.130812; "
            "assert sorted(set(bonkl.__all__) - set(dir(bonkl))) == []")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'plots_of_nothing'"):
        bonkl.plots_of_nothing  # noqa: B018
