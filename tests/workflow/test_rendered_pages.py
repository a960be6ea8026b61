"""The rule `pages` on the test config: the pages rendered beside its figures, never over the
committed ones, equal to a fresh render of the run's own ledger and tables."""

from __future__ import annotations

from workflow_runs import ROOT

from bonkl.plumbing.tables import read_table
from bonkl.study import pages


def test_pages_are_rendered_from_the_test_run(project, test_config):
    results = project / test_config["paths"]["results"]
    figures = project / test_config["paths"]["figures"]
    written = figures / "pages"
    assert read_table(figures / "claims.csv").equals(read_table(results / "claims.csv"))
    fragments = {path.name.removesuffix("_findings.md"): path
                 for path in sorted(figures.glob("*_findings.md"))}
    context = pages.Pages(figures / "claims.csv",
                          {name: figures / f"{name}.csv" for name in pages.TABLES}, fragments,
                          {section: test_config[section] for section in pages.CONFIG_SECTIONS})
    rendered = pages.render(ROOT / pages.TEMPLATES, context)
    for name in pages.PUBLISHED:
        assert (written / f"{name}.md").read_text(encoding="utf-8") == rendered[name], name
    assert (written / "findings.md").read_text(encoding="utf-8") == rendered["findings"]
    # the test config leaves the copy's README and published pages as they were copied
    assert (project / "README.md").read_bytes() == (ROOT / "README.md").read_bytes()
    for page in (ROOT / "docs" / "results").glob("*.md"):
        assert (project / "docs" / "results" / page.name).read_bytes() == page.read_bytes()
    for row in context.rows.values():  # every failing row of the run is in the findings
        if pages.kind(row) not in (pages.HOLDS, pages.NOT_CHECKED):
            assert f"`{row['claim']}`" in rendered["findings"], row["claim"]
