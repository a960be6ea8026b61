"""Stage pages: the results pages and the README's findings, rendered from the ledger and tables."""

from pathlib import Path

from bonkl.plumbing.runlog import run
from bonkl.study import pages


def main(sm, log):
    context = pages.Pages(
        sm.input.ledger, dict(zip(sm.params.tables, sm.input.tables, strict=True)),
        dict(zip(sm.params.stages, sm.input.findings, strict=True)), sm.params.config)
    rendered = pages.render(Path(sm.input.templates[0]).parent, context)
    for name in pages.PAGES:
        if name != "findings":
            Path(sm.output[name]).parent.mkdir(parents=True, exist_ok=True)
            Path(sm.output[name]).write_text(rendered[name], encoding="utf-8")
    findings = Path(sm.output.findings)  # README.md (its block replaced), or the block alone
    block = rendered["findings"]
    if sm.params.splice_readme:
        block = pages.splice_readme(findings.read_text(encoding="utf-8"), block)
    findings.parent.mkdir(parents=True, exist_ok=True)
    findings.write_text(block, encoding="utf-8")
    log.info("rendered %s; fragments of %s", ", ".join(pages.PAGES),
             ", ".join(sm.params.stages) or "no stage")


run(snakemake, main)  # noqa: F821
