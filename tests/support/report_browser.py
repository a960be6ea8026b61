"""A real headless Chromium walking a Snakemake HTML report, as a reader clicks through it.

Debian's ``chromium`` is installed by :func:`chromium_path` when missing (as root, the
test setup of CI); the browser is driven by Playwright over the DevTools protocol.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def chromium_path() -> str:
    """Path of Debian's chromium, installing it with apt when missing; skip if impossible."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and apt-get cannot install it (not root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "install", "-y", "-q", "chromium"],
                    ["sh", "-c", "apt-get update -q && apt-get install -y -q chromium"]):
        if subprocess.run(command, env=env, capture_output=True, timeout=900).returncode == 0:
            return shutil.which("chromium")
    pytest.skip("apt-get could not install Debian's chromium (no package registry?)")


@dataclass
class ReportWalk:
    """What a reader sees: per result file, its image size (0 = broken) or its table's row
    count (HTML tables, header included), and its caption."""

    images: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (width, height)
    tables: dict[str, int] = field(default_factory=dict)  # name -> rows
    captions: dict[str, str] = field(default_factory=dict)
    statistics_charts: int = 0  # rendered runtime charts (vega canvases of nonzero size)


def walk_report(report: Path, screenshot: Path) -> ReportWalk:
    """Open ``report`` in headless Chromium and visit every result of every category."""
    from playwright.sync_api import sync_playwright

    walk = ReportWalk()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(screenshot))
        for category in _menu(page, []):
            _visit_results(page, report, [category], walk)
        page.goto(report.resolve().as_uri())
        page.get_by_role("link", name="Statistics", exact=True).click()
        page.locator(".vega-embed canvas").first.wait_for(timeout=10_000)
        sizes = page.locator(".vega-embed canvas").evaluate_all(
            "cs => cs.map(c => c.width * c.height)")
        walk.statistics_charts = sum(size > 0 for size in sizes)
        browser.close()
    return walk


def _menu(page, path: list[str]) -> list[str]:
    """The sidebar's entries below ``path`` (categories or subcategories): not the general
    pages, not the breadcrumbs (``Results`` and ``path`` itself)."""
    texts = [t.strip() for t in page.locator("li > a").all_inner_texts()]
    skip = {"", "Workflow", "Statistics", "About", "Results", *path}
    return [t for t in texts if t not in skip]


def _open(page, report: Path, path: list[str]) -> None:
    """Load the report afresh and click through ``path`` (category, subcategory)."""
    page.goto(report.resolve().as_uri())
    for name in path:
        page.get_by_role("link", name=name, exact=True).click()


def _visit_results(page, report: Path, path: list[str], walk: ReportWalk) -> None:
    """Every result listed under ``path``, descending into subcategories."""
    _open(page, report, path)
    rows = page.locator("tr", has=page.locator("a[iconname=eye]"))
    if rows.count() == 0:  # a list of subcategories
        for name in _menu(page, path):
            _visit_results(page, report, [*path, name], walk)
        return
    names = [Path(text.strip()).name for text in rows.locator("td:first-child").all_inner_texts()]
    for i, name in enumerate(names):
        rows.nth(i).locator("a[iconname=eye]").click()
        page.wait_for_timeout(300)
        if name.endswith(".html"):
            walk.tables[name] = page.frame_locator("iframe").first.locator("table tr").count()
        else:
            image = page.locator(f"img[src*='filename={name}']").first
            image.wait_for(state="attached", timeout=10_000)
            walk.images[name] = tuple(image.evaluate(
                "e => e.complete ? [e.naturalWidth, e.naturalHeight] : [0, 0]"))
    for i, name in enumerate(names):
        _open(page, report, path)
        rows.nth(i).locator("a[iconname=information-circle]").click()
        page.wait_for_timeout(200)
        walk.captions[name] = page.locator("body").inner_text()
