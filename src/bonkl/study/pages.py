"""The published prose: the results pages and the README's findings, rendered from results.

The pages (``docs/results/paper-a.md``, ``paper-b.md``, ``paper-c.md``, ``ledger.md`` and
the README's findings block) are Jinja2 templates (``workflow/templates/pages/``) filled
from the claims ledger, the tables of ``figures/``, the config sections they describe and
the stages' findings fragments (``figures/<stage>_findings.md``). No number, count or
"holds / fails" word is typed in a template: each comes from a cell through the helpers
below, and a test re-renders the committed pages and checks every number they quote
against the cells.

Helpers the templates see:

- ``claim(name)``: the ledger row of a claim (attribute access: ``.statement``, ``.status``,
  ``.source``, ``.cases``, ``.worst_margin``, ``.tolerance``, ``.holds``, ``.worst_case``,
  ``.evidence``), or :data:`MISSING` when this run's ledger has no such claim;
- ``kind(row)``: the finding's kind, from the row's status, source, cases and holds
  (:func:`kind`); ``verdict(row)``: "held", "failed" or "not checked";
- ``case(row, key)``: the number after ``key=`` in the row's ``worst_case``;
- ``number(value, digits)``, ``count(value)``, ``percent(value, digits)``: the formats
  the number check parses back (:func:`number`, :func:`count`, :func:`percent`);
- ``table(name)``: ``figures/<name>.csv`` as a DataFrame, or None when not given;
  ``column(name, col)``: one of its columns, or None;
- ``fragment(stage)``: the stage's findings fragment, or the empty string when the run has
  none;
- ``config``: the config sections the pages describe.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import jinja2
import pandas as pd
import yaml

from bonkl.plumbing.tables import read_table

#: The pages by name (the four results pages and the README's findings block).
PAGES = ("paper-a", "paper-b", "paper-c", "ledger", "findings")
#: The markers that delimit the README's rendered findings block.
README_START, README_END = "<!-- findings:start -->", "<!-- findings:end -->"
NOT_IN_RUN = "not in this run"
#: The figures/ tables the templates read (``figures/<name>.csv``).
TABLES = ("kl_rate_fit",)
#: The config sections the pages describe (the rule's params, the templates' ``config``).
CONFIG_SECTIONS = ("regularized", "policy_gradient")
#: Where the templates live, relative to the repository root.
TEMPLATES = "workflow/templates/pages"
#: The committed pages (the full config's), relative to the repository root.
PUBLISHED = {"paper-a": "docs/results/paper-a.md", "paper-b": "docs/results/paper-b.md",
             "paper-c": "docs/results/paper-c.md", "ledger": "docs/results/ledger.md"}

#: The kinds of finding (:func:`kind`).
PAPER_FAILS = "a paper's claim that fails"
CONTRADICTION = "a contradiction with the paper"
OURS_FAILS = "a finding about our extension or our reading"
NOT_CHECKED = "not checked"
HOLDS = "holds"
KINDS = {"paper_fails": PAPER_FAILS, "contradiction": CONTRADICTION, "ours": OURS_FAILS,
         "not_checked": NOT_CHECKED, "holds": HOLDS}
PAPER_STATUSES = ("proven", "reported", "stated-number")
#: A source that names one of the paper's figures or tables (its experiments).
EXPERIMENT_SOURCE = re.compile(r"\b(?:Fig|Figs|Figure|Table)\.?\s*\d")

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MINUS = "−"  # U+2212, as in the pages' formulas
GROUP = "\u202f"  # narrow no-break space between groups of three digits


class Missing:
    """A claim, table or value this run does not have: renders as "not in this run", is
    false, and any attribute of it is itself (so a template can ask ``claim(x).holds``)."""

    def __bool__(self):
        return False

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __str__(self):
        return f"*({NOT_IN_RUN})*"


#: The value of a claim, table or number this run does not have.
MISSING = Missing()


class Row(Mapping):
    """One ledger row, read by key or attribute."""

    def __init__(self, values: dict):
        self._values = values

    def __getitem__(self, key):
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


def kind(row) -> str:
    """The kind of a ledger row's finding, from its status, source, cases and holds.

    - no case checked: "not checked" (never a failure);
    - held: "holds";
    - a failing row whose status is the paper's (proven, reported, stated-number) and whose
      source is the paper's (not ``ours``): "a paper's claim that fails", or, when that
      source is one of the paper's figures or tables (an experimental result the paper
      reports, which our exact computation disagrees with), "a contradiction with the paper";
    - any other failing row (ours, derived, or observed: our own experiments, such as the
      tabular analogue, whose failures say something about the analogue): "a finding about
      our extension or our reading", never the paper's failure.
    """
    if isinstance(row, Missing):
        return NOT_IN_RUN
    if int(row["cases"]) == 0:
        return NOT_CHECKED
    if _truth(row["holds"]):
        return HOLDS
    source = str(row["source"]).strip()
    if row["status"] in PAPER_STATUSES and source.lower() != "ours":
        return CONTRADICTION if EXPERIMENT_SOURCE.search(source) else PAPER_FAILS
    return OURS_FAILS


def verdict(row) -> str:
    """"held", "failed" or "not checked" (0 cases), from the row's cells."""
    if isinstance(row, Missing):
        return NOT_IN_RUN
    if int(row["cases"]) == 0:
        return NOT_CHECKED
    return "held" if _truth(row["holds"]) else "failed"


def _truth(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def number(value, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits: ``0.0123``, ``−0.16``, ``2.7·10³⁰³``.

    Plain notation from 1e-4 up to 1e4, or further up while the digits asked for cover the
    integer part (integers with their digits grouped by a narrow space); powers of ten as
    ``m·10ᵏ`` outside it; the minus sign is U+2212. Missing values
    render as "not in this run".
    """
    if value is None or isinstance(value, Missing):
        return str(MISSING)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"number: {value!r} is not finite")
    if value == 0:
        return "0"
    text = f"{abs(value):.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        power = int(exponent)
        if -4 <= power < max(4, digits):  # the rounded value, in plain notation
            text = f"{float(text):.{max(digits - 1 - power, 0)}f}"
        else:
            mantissa, _ = f"{abs(value):.{digits - 1}e}".split("e")
            text = ("" if digits == 1 and mantissa == "1" else f"{mantissa}·") + "10" + \
                str(power).translate(SUPERSCRIPT)
    if re.fullmatch(r"\d+", text):
        text = _grouped(text)
    return (MINUS if value < 0 else "") + text


def count(value) -> str:
    """An integer count with its digits grouped: ``180 234``."""
    if value is None or isinstance(value, Missing):
        return str(MISSING)
    return _grouped(str(int(value)))


def percent(value, digits: int = 2) -> str:
    """A fraction as a percentage to ``digits`` significant digits: ``0.9831`` → ``98 %``."""
    if value is None or isinstance(value, Missing):
        return str(MISSING)
    return f"{number(100 * float(value), digits)} %"


def _grouped(digits: str) -> str:
    if len(digits) <= 4:
        return digits
    head = len(digits) % 3 or 3
    return GROUP.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def inline(value) -> str:
    """A cell's text safe in running Markdown: ``\\``, ``*``, ``_``, `` ` ``, ``<`` and
    ``|`` escaped, so a statement such as ``log 1/p(C*)`` cannot start emphasis."""
    return re.sub(r"([\\*_`<|])", r"\\\1", str(value))


def case(row, key: str):
    """The number after ``key=`` in ``row.worst_case`` (e.g. ``case(row, "n")``), or
    :data:`MISSING` when the row or the key is absent."""
    if isinstance(row, Missing):
        return MISSING
    match = re.search(rf"(?:^|[\s,(]){re.escape(key)}=([-+0-9.eE]+)", str(row["worst_case"]))
    return float(match.group(1)) if match else MISSING


class Pages:
    """What the templates are filled from: the ledger, tables, fragments and config.

    Parameters
    ----------
    ledger : str or pathlib.Path
        The ledger CSV (columns :data:`bonkl.study.ledger.COLUMNS`).
    tables : Mapping
        ``{name: path}`` of the ``figures/`` tables the templates read.
    fragments : Mapping
        ``{stage: path}`` of the stages' findings fragments (``FINDINGS``).
    config : Mapping
        The config sections the pages describe.
    """

    def __init__(self, ledger, tables: Mapping, fragments: Mapping, config: Mapping):
        frame = read_table(ledger)
        self.ledger = frame
        self.rows = {row["claim"]: Row(row) for row in frame.to_dict("records")}
        self.tables = {name: Path(path) for name, path in tables.items()}
        self.fragments = {stage: Path(path) for stage, path in fragments.items()}
        self.config = config
        self._cache: dict[str, pd.DataFrame] = {}

    def claim(self, name: str):
        """The ledger row of ``name``, or :data:`MISSING`."""
        return self.rows.get(name, MISSING)

    def table(self, name: str):
        """``figures/<name>.csv`` as a DataFrame, or None when this run does not give it."""
        if name not in self.tables or not self.tables[name].exists():
            return None
        if name not in self._cache:
            self._cache[name] = read_table(self.tables[name])
        return self._cache[name]

    def column(self, name: str, col: str):
        """Column ``col`` of table ``name``, or None."""
        table = self.table(name)
        return table[col] if table is not None and col in table else None

    def fragment(self, stage: str) -> str:
        """The findings fragment of ``stage`` (its text, stripped), or "" without one."""
        path = self.fragments.get(stage)
        return path.read_text(encoding="utf-8").strip() if path and path.exists() else ""

    def paper_rows(self, paper: str) -> list[Row]:
        """The ledger rows of ``paper``, in ledger order."""
        return [row for row in self.rows.values() if row["paper"] == paper]

    def globals(self) -> dict:
        """The names the templates see (module doc)."""
        return {"claim": self.claim, "table": self.table, "column": self.column,
                "fragment": self.fragment, "kind": kind, "verdict": verdict, "case": case,
                "number": number, "count": count, "percent": percent, "inline": inline,
                "config": self.config, "paper_rows": self.paper_rows,
                "missing": MISSING, "kinds": KINDS}


def committed(root: str | Path, config: Mapping) -> Pages:
    """The context of the committed pages: ``figures/claims.csv``, the tables of
    :data:`TABLES` and every ``figures/<stage>_findings.md`` under ``root``, and the
    sections :data:`CONFIG_SECTIONS` of ``config`` (the full config)."""
    figures = Path(root) / "figures"
    fragments = {path.name.removesuffix("_findings.md"): path
                 for path in sorted(figures.glob("*_findings.md"))}
    return Pages(figures / "claims.csv", {name: figures / f"{name}.csv" for name in TABLES},
                 fragments, {section: config[section] for section in CONFIG_SECTIONS})


def publish(root: str | Path = ".") -> list[Path]:
    """Re-render the committed pages under ``root`` from its committed ``figures/`` and
    ``config/config.yaml``: the results pages and the README's findings block. Returns the
    files written (``python -m bonkl.study.pages``)."""
    root = Path(root)
    config = yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))
    rendered = render(root / TEMPLATES, committed(root, config))
    written = []
    for name, path in PUBLISHED.items():
        (root / path).write_text(rendered[name], encoding="utf-8")
        written.append(root / path)
    readme = root / "README.md"
    readme.write_text(splice_readme(readme.read_text(encoding="utf-8"), rendered["findings"]),
                      encoding="utf-8")
    return [*written, readme]


def environment(templates: str | Path) -> jinja2.Environment:
    """The Jinja2 environment of the page templates: strict undefined names, no autoescape
    (the output is Markdown), blocks trimmed so template tags leave no blank lines."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                              undefined=jinja2.StrictUndefined, autoescape=False,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                              extensions=["jinja2.ext.do"])


def render(templates: str | Path, pages: Pages) -> dict[str, str]:
    """Every page of :data:`PAGES`, rendered from ``templates/<page>.md.j2``."""
    env = environment(templates)
    env.globals.update(pages.globals())
    return {name: _tidy(env.get_template(f"{name}.md.j2").render()) for name in PAGES}


def _tidy(text: str) -> str:
    """At most one blank line in a row, one final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def splice_readme(readme: str, block: str) -> str:
    """``readme`` with the text between :data:`README_START` and :data:`README_END`
    replaced by ``block``; raises ValueError naming the marker when one is missing."""
    for marker in (README_START, README_END):
        if readme.count(marker) != 1:
            raise ValueError(f"README: expected the marker {marker!r} exactly once, found "
                             f"{readme.count(marker)}")
    head, rest = readme.split(README_START)
    _, tail = rest.split(README_END)
    return f"{head}{README_START}\n{block.strip()}\n{README_END}{tail}"


def readme_block(readme: str) -> str:
    """The findings block of ``readme`` (between the markers), stripped."""
    return readme.split(README_START)[1].split(README_END)[0].strip()


# ---------------------------------------------------------------- the number check
_SUPER_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
NUMBER = re.compile(
    rf"(?<![\w.·])(?P<sign>[{MINUS}-])?10(?P<power>[⁻]?[{_SUPER_DIGITS}]+)"
    rf"|(?<![\w.])(?P<mantissa>[{MINUS}-]?\d{{1,3}}(?:{GROUP}\d{{3}})+|[{MINUS}-]?\d+(?:\.\d+)?)"
    rf"(?:·10(?P<exponent>[⁻]?[{_SUPER_DIGITS}]+))?(?P<percent>\s?%)?")
_FROM_SUPERSCRIPT = str.maketrans("⁻" + _SUPER_DIGITS, "-0123456789")
#: Words after which a number names a part of a paper, not a result.
REFERENCE_WORDS = re.compile(
    r"(?:Thm|Theorem|Theorems|Remark|Remarks|Fig|Figs|Figure|Algorithm|Algorithms|Prop|"
    r"Conjecture|Eq|App|Assumption|Section|sections|Table|§|issue|Lemma|arXiv)\.?[\s ]*$")


def quoted_numbers(text: str) -> list[tuple[str, float, int]]:
    """``(token, value, significant digits)`` of every number the prose quotes.

    Skipped: code spans and fenced code (formulas, names), link targets, numbers that name a
    part of a paper (``Thm 3.4``, ``Fig. 5``, ``§6.1``) and digits inside words
    (``H₂``, ``algorithm_1``).
    """
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    found = []
    for match in NUMBER.finditer(text):
        before = text[max(0, match.start() - 14):match.start()]
        if REFERENCE_WORDS.search(before) or re.search(r"[\d.]\s?[–-]\s?$", before) and \
                REFERENCE_WORDS.search(before.rstrip("0123456789.–- ")):
            continue
        if match.group("power") is not None:  # a bare power of ten
            sign = -1.0 if match.group("sign") else 1.0
            found.append((match.group(0), sign * 10.0 ** int(match.group("power").translate(
                _FROM_SUPERSCRIPT)), 1))
            continue
        mantissa = match.group("mantissa").replace(GROUP, "").replace(MINUS, "-")
        value = float(mantissa)
        if match.group("exponent"):
            value *= 10.0 ** int(match.group("exponent").translate(_FROM_SUPERSCRIPT))
        if match.group("percent"):
            value /= 100.0
        significant = re.sub(r"^0+", "", mantissa.lstrip("-").replace(".", ""))
        if "." not in mantissa:  # 1200: trailing zeros may be padding
            significant = significant.rstrip("0")
        digits = len(significant) or 1
        found.append((match.group(0), value, digits))
    return found


def cell_values(frames) -> list[float]:
    """Every number a table holds: numeric cells, and numbers written inside text cells
    (``worst_case`` strings such as ``n=2.71132e+303``)."""
    values = []
    for frame in frames:
        for col in frame.columns:
            series = frame[col]
            if pd.api.types.is_bool_dtype(series):
                continue
            if pd.api.types.is_numeric_dtype(series):
                values.extend(float(v) for v in series.to_numpy() if math.isfinite(v))
            else:
                for text in series.astype(str):
                    values.extend(float(v) for v in re.findall(
                        r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text, flags=re.I))
    return values


def unsupported_numbers(text: str, values, verbatim=()) -> list[str]:
    """The numbers quoted in ``text`` that match no value of ``values`` at the digits they
    are quoted with (a percentage as its fraction; a count exactly). Text cells quoted
    whole (``verbatim``, e.g. the ledger's statements, as :func:`inline` renders them) are
    cells themselves and are removed first."""
    for quoted in sorted({inline(v) for v in verbatim}, key=len, reverse=True):
        text = text.replace(quoted, " ")
    rounded = {d: {_round(v, d) for v in values} | {_round(abs(v), d) for v in values}
               for d in range(1, 18)}
    return [token for token, value, digits in quoted_numbers(text)
            if _round(value, min(digits, 17)) not in rounded[min(digits, 17)]]


def _round(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


if __name__ == "__main__":
    for written in publish():
        print(written)
