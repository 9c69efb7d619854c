"""The report opened as a reader opens it: headless Chromium (Debian's ``chromium``, driven by
Playwright), no network, every figure loaded, the embedded font used, printable.

The README's test command installs Debian's chromium when it is missing (so CI does too);
without it this test fails with the command that installs it, never skips.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from liangye.scenarios.runner import write_report

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium() -> str:
    """The browser's path, or a failure saying how to install it."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        pytest.fail(
            "chromium is not installed: run `apt-get update && apt-get install -y chromium` "
            "(the README's test command does so when it is missing)"
        )
    return found


@pytest.fixture(scope="module")
def report(design_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from liangye.scenarios.loader import load_scenario

    folder = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(design_runs["steep"], folder)
    scenario = design_runs["steep"].parent / "steep.toml"
    return write_report(folder, *load_scenario(scenario, ["tier_design=steep"]))


def test_the_report_opens_offline_with_every_figure(report: Path, tmp_path: Path) -> None:
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    executable = chromium()
    requested: list[str] = []

    def only_the_file(route: Route) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:  # the report must need nothing from a network
            requested.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_the_file)
            page.goto(report.resolve().as_uri(), wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => ({complete: i.complete, "
                "width: i.naturalWidth, height: i.naturalHeight, alt: i.alt}))"
            )
            fonts = page.evaluate(
                "document.fonts.ready.then(() => Array.from(document.fonts)"
                ".map(f => [f.family.replaceAll(\"'\", '').replaceAll('\"', ''), f.status]))"
            )
            title = page.title()
            heading = page.inner_text("h1")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4")
        finally:
            browser.close()
    assert requested == []
    assert len(images) == 2, images
    for image in images:
        assert image["complete"] and image["width"] > 200 and image["height"] > 100, image
    # Chinese drawn with the font embedded in the page, not one the machine may lack.
    assert ["LiangyeCJK", "loaded"] in fonts
    assert "分配方案与模拟报告" in title and "分配方案与模拟报告" in heading
    with Image.open(shot) as picture:
        assert picture.size[0] == 1280 and picture.size[1] > 2000
        # Not a blank page: text, tables and figures give many shades.
        assert len(picture.convert("L").getcolors(maxcolors=1 << 16) or []) > 50
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") > 2
