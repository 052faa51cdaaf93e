"""Screenshots of the home and game screens at phone and desktop sizes, saved to
artifacts/screenshots/ (docs/img/ holds copies of some, which the README shows)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.static.conftest import OpenApp
from tests.support.page import App

pytestmark = pytest.mark.slow

SIZES = {"phone": (375, 740), "small": (320, 640), "landscape": (740, 375), "desktop": (1280, 800)}


def shoot(page: Page, path: Path, size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    # a relayout is one frame away; two make sure it was painted
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.screenshot(path=str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert struct.unpack(">II", data[16:24]) == size, path
    assert len(data) > 5_000, path


def rename(app: App, player: int, name: str) -> None:
    field = app.card(player).locator(".name-input")
    field.fill(name)
    field.press("Enter")
    expect(app.card(player).locator(".name-input")).to_have_value(name)


def test_home_and_game_screenshots_at_phone_and_desktop_sizes(open_app: OpenApp, screenshots_dir: Path) -> None:
    home = open_app()
    home.page.evaluate(
        """() => localStorage.setItem('tapotarp.games.v1', JSON.stringify({
             K7QX2M: {lastSeen: Date.now() - 3600e3, hostToken: 'x'.repeat(64)},
             P4RWN8: {lastSeen: Date.now() - 26 * 3600e3, seat: {playerId: 2, token: 'y'.repeat(64)}},
           }))"""
    )
    home.reload()
    for label, size in SIZES.items():
        shoot(home.page, screenshots_dir / f"home-{label}.png", size)

    host = open_app()
    code = host.create_game(players=4, time_each="20", thresholds="5, 1, 30s")
    host.claim(1)
    guest = open_app(f"/?game={code}")
    guest.claim(2)
    for player, name in {1: "Ajani", 2: "Brenna", 3: "Chandra", 4: "Dakkon"}.items():
        rename(host, player, name)
    host.card(3).locator(".host-menu").click()
    host.page.click("#pm-time")
    host.page.fill("#t-time", "4:12")
    host.page.click("#time-form button[type=submit]")
    host.card(4).locator(".host-menu").click()
    host.page.click("#pm-time")
    host.page.fill("#t-time", "0:47")
    host.page.click("#time-form button[type=submit]")
    expect(host.clock(4)).to_have_text("0:47.0")
    for _ in range(3):
        host.page.get_by_role("button", name="Decrease life of player 2").click()
    host.start()
    host.page.click("#btn-pass")
    expect(guest.page.locator("#status-text")).to_have_text("Your turn")
    expect(guest.card(4)).to_have_class(re.compile(r"\bcritical\b"))
    for label, size in SIZES.items():
        shoot(guest.page, screenshots_dir / f"game-{label}.png", size)
    shoot(host.page, screenshots_dir / "game-host-desktop.png", SIZES["desktop"])
