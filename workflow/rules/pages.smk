# Stage pages: the published prose, rendered by bonkl.study.pages from the templates in
# workflow/templates/pages/: the results pages docs/results/*.md and the README's findings
# block, filled from the ledger (as figures/claims.csv), the figures/ tables they quote, the
# config sections they describe and every stage's findings fragment (FINDINGS). Included
# last, after every stage has registered its fragment.
from bonkl.study import pages

PAGE_TEMPLATES = os.path.relpath(Path(workflow.basedir) / pages.TEMPLATES)
# The full config publishes into the repository; any other (the test config) writes its
# pages beside its figures, so it never touches the committed pages.
PUBLISHED = FIGURES == "figures"
PAGES_DIR = "docs/results" if PUBLISHED else f"{FIGURES}/pages"
# The README's findings block: spliced into README.md, or (any other config) written alone.
PAGE_FINDINGS = update("README.md") if PUBLISHED else f"{FIGURES}/pages/findings.md"
PAGE_TABLES = {name: f"{FIGURES}/{name}.csv" for name in pages.TABLES}


rule claims_csv:
    """The claims ledger as CSV in figures/, so the pages re-render from committed files."""
    input:
        ledger=rules.claims_ledger.output[0],
        lib=library("claims_csv"),
    output:
        f"{FIGURES}/claims.csv",
    log:
        f"{LOGS}/claims_csv.log",
    benchmark:
        f"{BENCHMARKS}/claims_csv.tsv"
    script:
        "../../scripts/claims_csv.py"


rule pages:
    """The results pages and the README's findings, rendered from the ledger and tables."""
    input:
        ledger=rules.claims_csv.output[0],
        tables=list(PAGE_TABLES.values()),
        findings=list(FINDINGS.values()),
        templates=sorted(str(p) for p in Path(PAGE_TEMPLATES).glob("*.md.j2")),
        lib=library("pages"),
    output:
        **{page: f"{PAGES_DIR}/{page}.md" for page in pages.PUBLISHED},
        findings=PAGE_FINDINGS,
    log:
        f"{LOGS}/pages.log",
    benchmark:
        f"{BENCHMARKS}/pages.tsv"
    params:
        tables=list(PAGE_TABLES),
        stages=list(FINDINGS),
        splice_readme=PUBLISHED,
        config={
            section: order_free(config[section]) for section in pages.CONFIG_SECTIONS
        },
    script:
        "../../scripts/pages.py"


TARGETS.extend([rules.claims_csv.output[0], *rules.pages.output])
