"""Seat colours (js/colors.js), several browser contexts on a real service: a player picks
their own seat's colour from the palette row in the More menu (More → a colour: two taps), the
host any seat's from the seat's menu (… → a colour), everyone's card takes it, and "None"
gives the seat its own colour back; every colour of the palette keeps the card's text
readable (WCAG AA)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000
PALETTE = ["red", "blue", "green", "yellow", "purple", "cyan", "orange", "pink", "lime", "teal", "indigo", "amber"]

# Every palette entry against the card's texts: the chip's dark number on the colour, the
# card's light and muted text on its tints.
PALETTE_CONTRAST = """
async () => {
  const { PALETTE } = await import('/static/js/colors.js');
  const lum = (hex) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const out = {};
  for (const [id, c] of Object.entries(PALETTE)) {
    out[id] = Math.min(
      ratio('#0b0f14', c.seat), ratio('#a7b2bf', c.tint), ratio('#a7b2bf', c.active), ratio('#eef2f6', c.active),
    );
  }
  return out;
}
"""


def seat_color(app: App, player: int) -> str:
    return str(app.card(player).evaluate("c => getComputedStyle(c).getPropertyValue('--seat').trim()"))


def pick(app: App, player: int | None, label: str) -> None:
    """`player` None: the app's own seat, from the More menu; else the host's seat menu. The
    dot is the menu's second tap, and it closes the menu."""
    if player is None:
        app.page.click("#btn-more")
        row, menu = app.page.locator("#my-colors"), app.page.locator("#dlg-table")
    else:
        app.card(player).locator(".host-menu").click()
        row, menu = app.page.locator("#pm-colors"), app.page.locator("#dlg-player")
    row.get_by_role("button", name=label, exact=True).click()
    expect(menu).to_be_hidden()


def test_players_and_the_host_colour_seats_and_every_card_shows_it(open_app: OpenApp) -> None:
    (a, b), code = seated(open_app, 3, 2)
    own = seat_color(a, 2)
    # B may colour only their own seat (no seat menus); a spectator none
    watcher = open_app(f"/?game={code}")
    watcher.page.click("#btn-more")
    expect(watcher.page.locator("#dlg-table")).to_be_visible()
    expect(watcher.page.locator("#my-colors")).to_be_hidden()
    expect(b.card(1).locator(".host-menu")).to_be_hidden()

    pick(b, None, "Teal")
    assert b.wait_sent("updatePlayer")["data"] == {"playerId": 2, "color": "teal"}
    for app in (a, b):
        expect(app.card(2)).to_have_attribute("data-color", "teal", timeout=SEEN_WITHIN_MS)
        assert seat_color(app, 2) == "#2dd4bf"
    expect(watcher.card(2)).to_have_attribute("data-color", "teal")
    expect(a.card(2).locator(".seat-chip")).to_have_attribute("title", "Teal")
    # the row marks and names the seat's colour
    b.page.click("#btn-more")
    expect(b.page.locator('#my-colors [aria-pressed="true"]')).to_have_attribute("data-color", "teal")
    expect(b.page.locator("#my-colors-label")).to_have_text("Your colour: Teal")
    audit(b.page, "the More menu's colours")
    b.page.locator("#dlg-table").get_by_role("button", name="Close").click()

    pick(a, 3, "Indigo")
    assert a.wait_sent("updatePlayer")["data"] == {"playerId": 3, "color": "indigo"}
    expect(b.card(3)).to_have_attribute("data-color", "indigo", timeout=SEEN_WITHIN_MS)
    assert seat_color(b, 3) == "#a5b4fc"
    a.card(3).locator(".host-menu").click()
    expect(a.page.locator('#pm-colors [aria-pressed="true"]')).to_have_attribute("data-color", "indigo")
    expect(a.page.locator("#pm-colors-label")).to_have_text("Colour: Indigo")
    audit(a.page, "the seat menu's colours")
    a.page.click("#dlg-player [data-close]")
    a.start()
    audit(a.page, "coloured cards, running")

    # None: the seat's own colour again
    pick(b, None, "None")
    for app in (a, b):
        expect(app.card(2)).to_have_attribute("data-color", "", timeout=SEEN_WITHIN_MS)
        assert seat_color(app, 2) == own
    assert [f["data"] for f in b.sent if f.get("type") == "updatePlayer"][-1] == {"playerId": 2, "color": None}
    states = [f["data"] for f in a.received if f.get("type") == "state"]
    assert [p["color"] for p in states[-1]["players"]] == [None, None, "indigo"]

    contrast = a.page.evaluate(PALETTE_CONTRAST)
    assert sorted(contrast) == sorted(PALETTE)
    low = {k: round(v, 2) for k, v in contrast.items() if v < 4.5}
    assert low == {}
