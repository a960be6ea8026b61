"""Sphinx extension of the bonkl docs: pages generated at build time, and strictness.

- ``api/<module>.rst``: one autodoc page per module of :mod:`bonkl`, found by walking the
  package, so no module can be left out of the reference; each module's docstring closes with a
  table of its public functions and classes, one line each (the first paragraph of the docstring).
  ``api/index.rst`` lists the modules by role, each with its one-line summary. The public
  mathematics is exactly ``bonkl.__all__``; a top-level module missing from it is a
  warning (an error under ``-W``), so a new public module must be exported to be listed.
- ``config-reference.md``: every key of ``config/schema.yaml`` with its type, bounds,
  default and ``description``; a key without a description is a warning (an error under
  ``-W``). Its table is laid out by ``_static/bonkl.css`` so the meaning column wraps
  instead of running off the page.
- A public function, class, method or module without a docstring is a warning too.

Generated files are written beside the sources and git-ignored. Private modules (a name
part starting with ``_``) get no page.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import yaml
from sphinx.util import logging

logger = logging.getLogger(__name__)
DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
LAYERS = [
    ("The public mathematics", "what users import: ``import bonkl; bonkl.bestofn.kl(...)``",
     lambda name: name.removeprefix("bonkl.") in _public_modules()),
    ("Sampled RL: bonkl.rl", "the autoregressive policy, tasks, metrics and trainer",
     lambda name: name.startswith("bonkl.rl")),
    ("The study, one module per stage: bonkl.study",
     "each stage's summaries and claims, and the claims ledger",
     lambda name: name.startswith("bonkl.study")),
    ("Figures, one module per stage: bonkl.plots", "figures over each stage's tidy tables",
     lambda name: name.startswith("bonkl.plots")),
    ("Plumbing: bonkl.plumbing", "tables, user files, seeding and logging",
     lambda name: name.startswith("bonkl.plumbing")),
    ("The pipeline's parse-time code: bonkl.pipeline",
     "config checks and the library files each rule depends on",
     lambda name: name.startswith("bonkl.pipeline")),
    ("The command line", "the ``bonkl`` command", lambda name: name == "bonkl.cli"),
]


def _public_modules() -> list[str]:
    import bonkl

    return list(bonkl.__all__)


def summary(obj) -> str:
    """The first paragraph of ``obj``'s docstring on one line (empty without a docstring).

    ``:meth:`` and ``:attr:`` references become literals: out of their class (in a module's
    table of members) they would not resolve.
    """
    doc = inspect.getdoc(obj) or ""
    text = " ".join(doc.split("\n\n", 1)[0].split())
    return re.sub(r":(?:py:)?(?:meth|attr):`~?([^`]+)`", r"``\1``", text)


def members(module) -> list[tuple[str, str, object]]:
    """``(role, name, object)`` of the public functions and classes a module defines, in
    ``__all__`` order when it has one, else in source order."""
    names = getattr(module, "__all__", None) or list(vars(module))
    found = []
    for name in names:
        value = getattr(module, name, None)
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value):
            found.append(("class", name, value))
        elif inspect.isfunction(value):
            found.append(("func", name, value))
    return found


def member_table(module) -> list[str]:
    """An RST list-table of a module's public functions and classes with their summaries."""
    rows = members(module)
    if not rows:
        return []
    lines = [".. list-table::", "   :class: bonkl-summary", "   :widths: 30 70", ""]
    for role, name, value in rows:
        lines += [f"   * - :py:{role}:`~{module.__name__}.{name}`",
                  f"     - {summary(value) or '(no docstring)'}"]
    return lines + [""]


def modules() -> list[str]:
    """Every module of :mod:`bonkl` but the private ones, imported (so autodoc can)."""
    import bonkl

    names = ["bonkl"] + [m.name for m in pkgutil.walk_packages(bonkl.__path__, "bonkl.")]
    names = [n for n in names if not any(part.startswith("_") for part in n.split("."))]
    for name in names:
        importlib.import_module(name)
    return sorted(names)


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it already (keeps Sphinx's cache valid)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def write_api(app) -> None:
    names = modules()
    api = DOCS / "api"
    for name in names:
        title = f"``{name}``"
        write_if_changed(api / f"{name}.rst",
                         f"{title}\n{'=' * len(title)}\n\n.. automodule:: {name}\n")
    lines = ["API reference", "=============", "",
             "Generated from the docstrings of every module of :mod:`bonkl`, by role. The",
             "roles are import-linter contracts in ``pyproject.toml``: a layer imports only",
             "the layers listed after it.", ""]
    placed = set()
    for heading, role, belongs in LAYERS:
        members_ = [n for n in names if n != "bonkl" and n not in placed and belongs(n)]
        placed.update(members_)
        lines += [heading, "-" * len(heading), "", role[0].upper() + role[1:] + ".", "",
                  ".. toctree::", "   :hidden:", ""]
        lines += [f"   {name}" for name in members_] + [""]
        lines += [f"- :mod:`{name}`: {summary(importlib.import_module(name)).rstrip('.')}"
                  for name in members_] + [""]
    for name in names:
        if name != "bonkl" and name not in placed:
            logger.warning("module %s belongs to no role of the API index (a top-level "
                           "module must be in bonkl.__all__ to be public mathematics)", name)
    lines += ["The package", "-----------", "", ".. toctree::", "   :maxdepth: 1", "",
              "   bonkl", ""]
    write_if_changed(api / "index.rst", "\n".join(lines))


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type(node: dict) -> str:
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(_type(n) for n in node.get("oneOf", node.get("anyOf")))
    kind = node.get("type", "any")
    if kind == "array" and isinstance(node.get("items"), dict):
        return f"list of {_type(node['items'])}"
    return kind if isinstance(kind, str) else " or ".join(kind)


def _bounds(node: dict) -> str:
    parts = []
    for key, sign in [("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"),
                      ("exclusiveMaximum", "<"), ("minItems", "items ≥"),
                      ("maxItems", "items ≤")]:
        if key in node:
            parts.append(f"{sign} {node[key]}")
    return ", ".join(parts)


def schema_rows(schema: dict, node: dict, path: str, rows: list, missing: list) -> None:
    node = _resolve(schema, node)
    for name, child in node.get("properties", {}).items():
        key = f"{path}.{name}" if path else name
        child_resolved = _resolve(schema, child)
        description = child.get("description") or child_resolved.get("description")
        if not description:
            missing.append(key)
        required = name in node.get("required", [])
        default = child_resolved.get("default")
        rows.append((key, _type(child_resolved), _bounds(child_resolved),
                     "required" if required else f"default `{default}`" if default is not None
                     else "optional", " ".join((description or "").split())))
        schema_rows(schema, child_resolved, key, rows, missing)
        items = child_resolved.get("items")
        if isinstance(items, dict):
            schema_rows(schema, items, f"{key}[]", rows, missing)
        for option in child_resolved.get("oneOf", []) + child_resolved.get("anyOf", []):
            schema_rows(schema, option, key, rows, missing)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        schema_rows(schema, extra, f"{path}.<name>", rows, missing)


def _list_table_row(cells) -> list[str]:
    """One row of a MyST ``list-table`` (an empty cell stays an empty item; a leading ``>``,
    a bound such as ``> 0``, is escaped so that it is not read as a block quote)."""
    cells = [("\\" + cell) if cell.startswith(">") else cell for cell in cells]
    return [f"{'*' if i == 0 else ' '} - {cell}".rstrip() for i, cell in enumerate(cells)]


def write_config_reference(app) -> None:
    schema = yaml.safe_load((ROOT / "config" / "schema.yaml").read_text(encoding="utf-8"))
    rows, missing = [], []
    schema_rows(schema, schema, "", rows, missing)
    seen, unique = set(), []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            unique.append(row)
    lines = ["# Config reference", "",
             "Every key of `config/schema.yaml`, generated from the schema at build time. The",
             "schema is checked by Snakemake's `validate` when the workflow is parsed; what it",
             "cannot express is checked next by `bonkl.pipeline.config_checks`. Both run before",
             "any job. Keys under a list (`[]`) are per item.", "",
             "```{list-table}", ":header-rows: 1", ":widths: 30 12 12 12 34",
             ":class: bonkl-config", "",
             *_list_table_row(("key", "type", "bounds", "required / default", "meaning"))]
    for key, *cells in unique:
        lines += _list_table_row((f"`{key}`", *cells))
    lines += ["```"]
    write_if_changed(DOCS / "config-reference.md", "\n".join(lines) + "\n")
    for key in sorted(set(missing)):
        logger.warning("config/schema.yaml: the key %r has no description", key)


def require_docstring(app, what, name, obj, options, lines) -> None:
    """Warn about a public module, class, function or method of bonkl with no docstring
    (members imported from elsewhere are documented where they are defined)."""
    if what not in ("module", "class", "function", "method") or any(line.strip() for line in lines):
        return
    home = getattr(obj, "__module__", None) if what != "module" else name
    if name.rsplit(".", 1)[-1].startswith("_") or not (home or "").startswith("bonkl"):
        return
    if what in ("class", "function") and name != f"{home}.{obj.__name__}":
        return  # imported into the documented module
    logger.warning("%s %s has no docstring", what, name)


def add_member_table(app, what, name, obj, options, lines) -> None:
    """Close a bonkl module's docstring with the table of its members (:func:`member_table`)."""
    if what == "module" and name.startswith("bonkl"):
        lines.extend(["", *member_table(obj)])


def setup(app):
    app.add_css_file("bonkl.css")
    app.connect("builder-inited", write_api)
    app.connect("autodoc-process-docstring", add_member_table)
    app.connect("builder-inited", write_config_reference)
    app.connect("autodoc-process-docstring", require_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
