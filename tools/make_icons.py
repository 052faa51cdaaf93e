"""Renders service/static/icons/icon.svg to the PNG icons the web manifest lists.

The PNGs are committed; run this again only after changing the SVG:

    .venv/bin/python -m tools.make_icons

It draws the SVG in headless Chromium (the same browser the tests use), so the PNGs match
what browsers show for the SVG, with transparent corners.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

from tools.chromium import CHROMIUM, LAUNCH_ARGS

ICONS = Path(__file__).resolve().parents[1] / "service" / "static" / "icons"
SIZES = (192, 512)


def render(svg: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(LAUNCH_ARGS))
        try:
            for size in sizes:
                page = browser.new_page(viewport={"width": size, "height": size})
                page.goto(svg.as_uri())
                out = ICONS / f"icon-{size}.png"
                page.screenshot(path=str(out), omit_background=True)
                page.close()
                written.append(out)
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    for path in render(ICONS / "icon.svg"):
        print(path)
