"""The published pages: rendered from the ledger and tables, never typed, never stale.

The committed pages (``docs/results/*.md``, the README's findings block) must equal a fresh
render from the committed ``figures/`` (the ledger as ``figures/claims.csv``), and every
number they quote must be a cell of the ledger, a table they read or the config.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bonkl.study import pages
from bonkl.study.ledger import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))


def row(**values):
    base = dict(paper="A", claim="x", statement="s", status="reported", source="Thm 1",
                cases=3, worst_margin=-1.0, tolerance=1e-12, holds=False, worst_case="ref at n=2",
                evidence="figures/x.png")
    return pages.Row({**base, **values})


@pytest.mark.parametrize(("values", "expected"), [
    (dict(cases=0, holds=False), pages.NOT_CHECKED),
    (dict(holds=True), pages.HOLDS),
    (dict(status="reported", source="Thm 3.4 (secondary)"), pages.PAPER_FAILS),
    (dict(status="proven", source="abstract"), pages.PAPER_FAILS),
    (dict(status="stated-number", source="Remark 4.2 (§4)"), pages.PAPER_FAILS),
    (dict(status="reported", source="Fig. 5 (§6)"), pages.CONTRADICTION),
    (dict(status="ours", source="ours"), pages.OURS_FAILS),
    (dict(status="derived", source="ours"), pages.OURS_FAILS),
    (dict(status="derived", source="paper A (secondary)"), pages.OURS_FAILS),
    (dict(status="observed", source="C §6.1"), pages.OURS_FAILS),
    (dict(status="observed", source="ours"), pages.OURS_FAILS),
])
def test_kind_comes_from_status_source_cases_and_holds(values, expected):
    """Only a failing row of the paper's status and source is the paper's failure; a row with
    no case is not checked, never a failure; ours, derived and observed rows are ours."""
    assert pages.kind(row(**values)) == expected


def test_verdict_and_case():
    assert pages.verdict(row(holds=True)) == "held"
    assert pages.verdict(row(holds="False")) == "failed"  # as read back from a CSV
    assert pages.verdict(row(cases=0)) == "not checked"
    r = row(worst_case="lm_samples at n=178, KL=1.48, mass on lowest-support=0.9831")
    assert pages.case(r, "n") == 178 and pages.case(r, "KL") == 1.48
    assert pages.case(r, "lowest-support") == 0.9831
    assert not pages.case(r, "beta") and not pages.case(pages.MISSING, "n")


@pytest.mark.parametrize(("value", "digits", "text"), [
    (-0.16089, 2, "−0.16"), (0.0012, 2, "0.0012"), (2.71132e303, 2, "2.7·10³⁰³"),
    (1e-12, 1, "10⁻¹²"), (-3.55271e-15, 2, "−3.6·10⁻¹⁵"), (62424, 5, f"62{pages.GROUP}424"),
    (1359.1, 3, "1360"), (-10194.8, 2, "−1.0·10⁴"), (0, 3, "0"), (5.0e-5, 2, "5.0·10⁻⁵"),
    (1.2e-4, 2, "0.00012"),
    (0.98312, 2, "0.98"), (2.5e6, 2, "2.5·10⁶"),
])
def test_number_formats(value, digits, text):
    assert pages.number(value, digits) == text


def test_count_percent_and_missing():
    assert pages.count(180234) == f"180{pages.GROUP}234" and pages.count(1280) == "1280"
    assert pages.percent(0.9831, 2) == "98 %"
    assert pages.number(None) == pages.count(pages.MISSING) == "*(not in this run)*"
    with pytest.raises(ValueError, match="not finite"):
        pages.number(float("nan"))


@given(st.floats(-1e300, 1e300, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-300),
       st.integers(1, 6))
def test_quoted_numbers_read_back_what_number_writes(value, digits):
    """The number check parses exactly the formats :func:`pages.number` writes."""
    text = pages.number(value, digits)
    (token, parsed, _), = pages.quoted_numbers(f"a margin of {text} here")
    assert token == text
    assert parsed == pytest.approx(float(f"{value:.{digits}g}"), rel=1e-12, abs=0)


def test_quoted_numbers_skip_names_and_paper_parts():
    text = ("Thm 3.4 and Figs. 3–4, §6.1, Algorithm 1, `log n − (n−1)/n`, H₂, "
            "[page](docs/a1.md), algorithm_1, 98 % and 2.7·10³⁰³ and 10⁻¹²")
    assert [t for t, _, _ in pages.quoted_numbers(text)] == ["98 %", "2.7·10³⁰³", "10⁻¹²"]
    assert pages.unsupported_numbers("worst 0.16, then 7.5", [-0.16089]) == ["7.5"]


def test_splice_readme_replaces_only_the_block():
    readme = f"# T\n\ntext\n{pages.README_START}\nold\n{pages.README_END}\n\n## Next\n"
    spliced = pages.splice_readme(readme, "new block\n")
    block = f"{pages.README_START}\nnew block\n{pages.README_END}"
    assert spliced == f"# T\n\ntext\n{block}\n\n## Next\n"
    assert pages.readme_block(spliced) == "new block"
    with pytest.raises(ValueError, match="findings:end"):
        pages.splice_readme(readme.replace(pages.README_END, ""), "x")


def committed_render(fragments: bool = True) -> dict[str, str]:
    context = pages.committed(ROOT, CONFIG)
    if not fragments:
        context.fragments = {}
    return pages.render(ROOT / pages.TEMPLATES, context)


def test_committed_pages_equal_a_fresh_render():
    """Drift: every committed page is what the templates give from the committed figures/.
    Re-render with ``python -m bonkl.study.pages`` (from the committed figures/), or let the
    full study's rule ``pages`` do it."""
    rendered = committed_render()
    for name, path in pages.PUBLISHED.items():
        assert (ROOT / path).read_text(encoding="utf-8") == rendered[name], (
            f"{path} differs from a fresh render: run `python -m bonkl.study.pages`")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert pages.readme_block(readme) == rendered["findings"].strip(), (
        "README.md's findings block differs from a fresh render: run "
        "`python -m bonkl.study.pages`")


def _config_values(value):
    if isinstance(value, dict):
        return [v for item in value.values() for v in _config_values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _config_values(item)]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    return [float(value)]


def test_every_quoted_number_is_a_cell():
    """Every number the pages quote (outside code, names and the papers' section numbers)
    is a cell of the ledger or of a table the pages read, or a value of the config sections
    they describe, at the digits it is quoted with. The stages' fragments are left out:
    each stage tests its own."""
    context = pages.committed(ROOT, CONFIG)
    frames = [context.ledger] + [context.table(name) for name in pages.TABLES
                                 if context.table(name) is not None]
    values = pages.cell_values(frames) + [v for section in pages.CONFIG_SECTIONS
                                          for v in _config_values(CONFIG[section])]
    statements = context.ledger["statement"].tolist()
    for name, text in committed_render(fragments=False).items():
        assert pages.unsupported_numbers(text, values, statements) == [], name


def test_a_number_typed_into_a_template_is_caught(tmp_path):
    """The check can fail: a template that types a result is flagged."""
    (tmp_path / "t.md.j2").write_text("The worst margin was 0.4321, {{ number(0.5) }}.\n")
    env = pages.environment(tmp_path)
    env.globals.update(pages.committed(ROOT, CONFIG).globals())
    text = env.get_template("t.md.j2").render()
    values = pages.cell_values([pages.committed(ROOT, CONFIG).ledger])
    assert "0.4321" in pages.unsupported_numbers(text, values)


def template_claims() -> set[str]:
    """The claim names the templates ask for."""
    names = set()
    for path in (ROOT / pages.TEMPLATES).glob("*.md.j2"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"(?:claim|checked|finding)\(\"([a-z0-9_]+)\"", text))
        for listed in re.findall(r"(?<![\w\]])\[((?:\s*\"[a-z0-9_]+\",?)+)\s*\]", text):
            names |= set(re.findall(r"\"([a-z0-9_]+)\"", listed))
    return names - {"A", "B", "C"}


#: Claims the templates may name before figures/ is regenerated with them (none now).
PENDING: set[str] = set()


def test_the_full_ledger_has_every_claim_the_pages_name():
    """The committed (full-config) ledger holds every claim a template names: a template
    never silently renders "not in this run" on the full study."""
    ledger = pd.read_csv(ROOT / "figures" / "claims.csv")
    assert list(ledger.columns) == COLUMNS
    assert "fig5_sentence_algorithm_1" in template_claims()
    missing = sorted(template_claims() - set(ledger["claim"]) - PENDING)
    assert missing == [], f"claims named by the templates but not in figures/claims.csv: {missing}"


def test_pages_render_on_a_small_ledger(tmp_path):
    """The test config's shape: a ledger with a few rows, one of them unchecked, no tables,
    no fragments. Missing claims say "not in this run"; the unchecked one "not checked"."""
    ledger = pd.read_csv(ROOT / "figures" / "claims.csv")
    small = ledger[ledger["claim"].isin(["kl_le_formula", "gap_bound_outcomes_with_ties",
                                         "fig5_sentence_algorithm_1", "bon_reward_limit"])].copy()
    small.loc[small["claim"] == "bon_reward_limit", ["cases", "holds"]] = [0, False]
    small.to_csv(tmp_path / "claims.csv", index=False)
    context = pages.Pages(tmp_path / "claims.csv", {"kl_rate_fit": tmp_path / "none.csv"}, {},
                          {section: CONFIG[section] for section in pages.CONFIG_SECTIONS})
    out = pages.render(ROOT / pages.TEMPLATES, context)
    assert set(out) == set(pages.PAGES)
    assert pages.NOT_IN_RUN in out["paper-a"] and pages.NOT_IN_RUN in out["findings"]
    assert "`bon_reward_limit`, proven, source abstract: not checked on 0 cases" in out["paper-b"]
    assert "Not checked (0 cases" in out["findings"] and "failed" in out["findings"]
    assert f"*{pages.CONTRADICTION.capitalize()}.*" in out["paper-c"]
    fragment = tmp_path / "samples_findings.md"
    fragment.write_text("A fragment of the samples stage.\n")
    context.fragments = {"samples": fragment}
    assert "A fragment of the samples stage." in pages.render(ROOT / pages.TEMPLATES,
                                                             context)["paper-a"]


def test_missing_is_falsy_and_absorbs_attributes():
    assert not pages.MISSING and not pages.MISSING.holds.cases
    assert str(pages.MISSING.statement) == "*(not in this run)*"
