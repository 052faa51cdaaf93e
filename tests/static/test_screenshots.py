"""Screenshots of the home and game screens at phone and desktop sizes, saved to
artifacts/screenshots/ (docs/img/ holds copies of some, which the README shows)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

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


#: the README's phone: a current mid-size phone in portrait
README_PHONE = (390, 844)


def test_readme_screenshots_of_a_commander_game_on_a_phone_and_the_open_games(
    open_app: OpenApp, screenshots_dir: Path
) -> None:
    """The README's screenshots: a four-player Commander game on four phones with life, poison
    and commander damage changed, the same game on a tablet in table-centre view, and the
    home screen's open games with a few named games."""
    host = open_app(width=README_PHONE[0], height=README_PHONE[1])
    host.fill_create_form(players=4, time_each="25")
    host.page.fill("#f-game-name", "Friday Commander")
    host.page.click("#rules-create > summary")
    host.page.select_option("#f-rules-format", "commander")
    host.page.click("#create-submit")
    expect(host.cards()).to_have_count(4)
    expect(host.page.locator("#game-name")).to_have_text("Friday Commander")
    commander = host.page.inner_text("#game-code")
    host.claim(1)
    guest = open_app(f"/?game={commander}", width=README_PHONE[0], height=README_PHONE[1])
    guest.claim(2)
    # every seat held, as at a real table
    for seat in (3, 4):
        open_app(f"/?game={commander}", width=README_PHONE[0], height=README_PHONE[1]).claim(seat)
    host.start()
    # the host may change anyone's counters: a few turns' worth of damage
    host.card(2).locator(".extras-toggle").click()
    for _ in range(7):
        host.page.get_by_role("button", name="Increase commander damage to player 2 from Player 3", exact=True).click()
    expect(host.card(2).locator('.cmd-cell[data-source="3"][data-partner="0"] .cmd-value')).to_have_text("7")
    for _ in range(3):
        host.page.get_by_role("button", name="Increase poison of player 2").click()
    expect(host.card(2).locator(".sum-poison .sum-value")).to_have_text("3")
    host.card(2).locator(".extras-toggle").click()
    for _ in range(4):
        host.page.get_by_role("button", name="Decrease life of player 1").click()
    for player, name in {1: "Ajani", 2: "Brenna", 3: "Chandra", 4: "Dakkon"}.items():
        rename(host, player, name)
    host.page.click("#btn-pass")
    expect(guest.page.locator("#status-text")).to_have_text("Your turn")
    expect(guest.card(2).locator(".stat-life .stat-value")).to_have_text("33")
    expect(guest.card(1).locator(".stat-life .stat-value")).to_have_text("36")
    # the folded card sums up what she has taken: 3 poison, 7 commander damage
    expect(guest.card(2).locator(".sum-poison .sum-value")).to_have_text("3")
    shoot(guest.page, screenshots_dir / "readme-commander-phone.png", README_PHONE)

    # the same game on a tablet in the middle of the table, every seat facing its player
    tablet = open_app(f"/?game={commander}", width=1024, height=768)
    expect(tablet.card(2).locator(".stat-life .stat-value")).to_have_text("33")
    tablet.page.click("#btn-table")
    expect(tablet.page.locator("#btn-table")).to_have_attribute("aria-pressed", "true")
    expect(tablet.page.locator("#watching")).to_be_hidden()
    shoot(tablet.page, screenshots_dir / "readme-table-centre-tablet.png", (1024, 768))

    # a few more named games, in different states, for the open games list
    codes = [commander]
    for name, players, seats in (("Pauper league night", 2, 1), ("Cube draft, table 2", 6, 3), ("Lunch brawl", 3, 0)):
        other = open_app()
        other.fill_create_form(players=players)
        other.page.fill("#f-game-name", name)
        other.page.click("#create-submit")
        expect(other.page.locator("#game-name")).to_have_text(name)
        codes.append(other.page.inner_text("#game-code"))
        for seat in range(1, seats + 1):
            (other if seat == 1 else open_app(f"/?game={codes[-1]}")).claim(seat)
    host.page.click("#btn-pause")
    expect(host.page.locator("#game")).to_have_attribute("data-status", "paused")

    visitor = open_app(width=README_PHONE[0], height=README_PHONE[1])

    # only this test's games: the test Redis holds other modules' games too
    def only_ours(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["games"] = [g for g in body["games"] if g["id"] in codes]
        route.fulfill(response=response, json=body)

    visitor.page.route("**/api/games*", only_ours)
    visitor.page.click("#btn-lobby-refresh")
    expect(visitor.page.locator("#lobby-list .lobby-item")).to_have_count(4)
    expect(visitor.page.locator(f'.lobby-item[data-game="{commander}"] .lobby-status-label')).to_have_text("Paused")
    shoot(visitor.page, screenshots_dir / "readme-lobby-phone.png", README_PHONE)
