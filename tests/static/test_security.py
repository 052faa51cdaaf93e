"""The client under the service's Content-Security-Policy: no violation, no console error,
no inline code, no markup from strings, no blocking browser dialogs."""

from __future__ import annotations

import json
import re
import struct
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import expect

from service.headers import CONTENT_SECURITY_POLICY
from stack.instance import ServiceProcess
from tests.static.conftest import OpenApp

pytestmark = pytest.mark.slow

STATIC = Path(__file__).resolve().parents[2] / "service" / "static"


def test_home_and_game_run_with_zero_csp_violations_and_zero_console_errors(open_app: OpenApp) -> None:
    # (the fixture holds every page of every test to the same; this one walks the basics)
    app = open_app()
    app.create_game(players=3)
    app.claim(1)
    app.start()
    app.page.click("#btn-pass")
    expect(app.page.locator("#status-text")).to_have_text("Player 2's turn")
    app.page.click("#btn-settings")
    app.page.click("#dlg-settings [data-close]")
    app.card(3).locator(".host-menu").click()
    app.page.click("#pm-time")
    app.page.click("#dlg-time [data-close]")
    app.card(2).locator(".extras-toggle").click()
    app.page.keyboard.press("m")
    app.page.click("#btn-leave")
    app.page.click("#confirm-ok")
    expect(app.page.locator("#home")).to_be_visible()
    assert app.page.evaluate("window.__cspViolations") == []
    assert app.console_errors == []
    assert app.page_errors == []


def test_every_response_carries_the_security_headers_the_right_types_and_revalidates(
    service: ServiceProcess,
) -> None:
    for path, kind in [
        ("/", "text/html"),
        ("/?game=ABCDEF", "text/html"),
        ("/static/js/main.js", "text/javascript"),
        ("/static/css/app.css", "text/css"),
        ("/static/manifest.webmanifest", "application/manifest+json"),
        ("/static/icons/icon.svg", "image/svg+xml"),
        ("/static/icons/icon-512.png", "image/png"),
    ]:
        with urllib.request.urlopen(service.url + path, timeout=5) as response:
            assert response.status == 200, path
            headers = response.headers
        assert kind in headers["Content-Type"], (path, headers["Content-Type"])
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        # modules are named by path, so every load must check its ETag: no stale code after a deploy
        assert headers["Cache-Control"] == "no-cache", path


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.links: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>: inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style>: inline style")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}>: javascript: URL")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not a.get("src"):
                self.problems.append("inline <script>")
            elif not str(a["src"]).startswith("/static/"):
                self.problems.append(f"foreign script {a['src']}")
        if tag == "link" and a.get("rel"):
            self.links[str(a["rel"])] = str(a.get("href"))
            if not str(a.get("href")).startswith("/static/"):
                self.problems.append(f"foreign link {a.get('href')}")
        if tag == "meta" and a.get("name"):
            self.meta[str(a["name"])] = str(a.get("content"))


def test_the_page_has_no_inline_code_and_links_its_manifest_and_icons() -> None:
    parser = Markup()
    parser.feed((STATIC / "index.html").read_text())
    assert parser.problems == []
    assert parser.links["manifest"] == "/static/manifest.webmanifest"
    assert parser.links["icon"].startswith("/static/icons/")
    assert parser.links["apple-touch-icon"] == "/static/icons/icon-192.png"
    assert re.fullmatch(r"#[0-9a-f]{6}", parser.meta["theme-color"])


def test_scripts_never_build_markup_from_strings_nor_block_with_browser_dialogs() -> None:
    forbidden = re.compile(
        r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"(?<![\w.])(alert|confirm|prompt)\(|window\.(alert|confirm|prompt)|setTimeout\(\s*['\"`]"
    )
    for path in sorted((STATIC / "js").glob("*.js")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("//", 1)[0] if not line.lstrip().startswith("*") else ""
            assert not forbidden.search(code), f"{path.name}:{number}: {line.strip()}"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_describes_an_installable_app() -> None:
    manifest = json.loads((STATIC / "manifest.webmanifest").read_text())
    assert manifest["name"] == "Tap or Tarp"
    assert manifest["short_name"]
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    for size in (192, 512):
        src = sizes[f"{size}x{size}"]
        assert png_size(STATIC / src.removeprefix("/static/")) == (size, size)
    assert (STATIC / sizes["any"].removeprefix("/static/")).read_text().startswith("<svg")
