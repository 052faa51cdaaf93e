"""The table: table-centre mode on a 1024x768 tablet, Screen Wake Lock, the share screen's QR
code, remembered settings and presets, and the spectator's banner."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit
from tests.support.page import App, card_edges

pytestmark = pytest.mark.slow


ACTIVE = re.compile(r"\bactive\b")

#: a stand-in for navigator.wakeLock that records what the page asks of it, and a
#: document.visibilityState the test can set (window.__setVisibility)
WAKE_LOCK_STUB = """
window.__wake = [];
window.__sentinels = [];
let visibility = 'visible';
Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility !== 'visible' });
window.__setVisibility = (v) => {
  visibility = v;
  // as a browser does: a hidden page loses its lock
  if (v !== 'visible') for (const s of window.__sentinels) s.__browserRelease();
  document.dispatchEvent(new Event('visibilitychange'));
};
Object.defineProperty(navigator, 'wakeLock', { configurable: true, value: {
  request: async (type) => {
    window.__wake.push('request ' + type);
    const s = new EventTarget();
    s.type = type;
    s.released = false;
    const end = (why) => {
      if (s.released) return;
      s.released = true;
      window.__wake.push(why);
      s.dispatchEvent(new Event('release'));
    };
    s.release = async () => end('release');
    s.__browserRelease = () => end('lost');
    window.__sentinels.push(s);
    return s;
  },
} });
"""

NO_WAKE_LOCK = "Object.defineProperty(navigator, 'wakeLock', { configurable: true, value: undefined });"

#: the image the page shows, drawn on a canvas and read back as grey levels
READ_QR_IMAGE = """async (selector) => {
  const img = document.querySelector(selector);
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let grey = '';
  for (let i = 0; i < rgba.length; i += 4) grey += String.fromCharCode(rgba[i]);
  return { width: canvas.width, height: canvas.height, grey: btoa(grey), src: img.currentSrc };
}"""

#: every card inside the viewport, no two overlapping, each one's clock, life and pass button
#: inside it, nothing scrolling; with each card's rotation and type sizes
TABLE_AUDIT = """() => {
  const inside = (a, b) =>
    a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const problems = [];
  const root = document.scrollingElement;
  if (root.scrollHeight > innerHeight || root.scrollWidth > innerWidth) {
    problems.push(`page scrolls: ${root.scrollWidth}x${root.scrollHeight}`);
  }
  const view = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
  const cards = [...document.querySelectorAll('#board .card')];
  const rects = cards.map((c) => c.getBoundingClientRect());
  const seats = [];
  cards.forEach((card, i) => {
    const r = rects[i];
    const pid = card.dataset.player;
    if (!inside(r, view)) problems.push(`card ${pid} leaves the screen`);
    rects.forEach((o, j) => {
      if (j <= i) return;
      const w = Math.min(r.right, o.right) - Math.max(r.left, o.left);
      const h = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
      if (w > 1 && h > 1) problems.push(`cards ${pid} and ${cards[j].dataset.player} overlap`);
    });
    for (const sel of ['.clock', '.stat-life .stat-value', '.pass-btn', '.claim-btn', '.card-head', '.stat-life']) {
      const el = card.querySelector(sel);
      if (!el || el.hidden || el.getClientRects().length === 0) continue;
      if (!inside(el.getBoundingClientRect(), r)) problems.push(`card ${pid}: ${sel} is cut off`);
    }
    const value = card.querySelector('.stat-life .stat-value').getBoundingClientRect();
    for (const step of card.querySelectorAll('.life-step')) {
      if (step.getClientRects().length === 0) continue;
      const o = step.getBoundingClientRect();
      const w = Math.min(value.right, o.right) - Math.max(value.left, o.left);
      const h = Math.min(value.bottom, o.bottom) - Math.max(value.top, o.top);
      if (w > 1 && h > 1) problems.push(`card ${pid}: the life number is under ${step.getAttribute('aria-label')}`);
    }
    const over = card.scrollHeight > card.clientHeight + 1 || card.scrollWidth > card.clientWidth + 1;
    if (over) problems.push(`card ${pid} overflows`);
    const m = new DOMMatrix(getComputedStyle(card).transform);
    seats.push({
      pid: Number(pid),
      side: card.dataset.side,
      angle: Math.round((Math.atan2(m.b, m.a) * 180) / Math.PI),
      clockPx: parseFloat(getComputedStyle(card.querySelector('.clock')).fontSize),
      lifePx: parseFloat(getComputedStyle(card.querySelector('.stat-life .stat-value')).fontSize),
    });
  });
  const strip = document.querySelector('.controls');
  const controls = strip.getBoundingClientRect();
  if (!inside(controls, view)) problems.push('the controls leave the screen');
  // every control in the strip whole: inside it, its words on one line, nothing clipped
  for (const el of strip.querySelectorAll('button, .undo-toast')) {
    if (el.hidden || el.getClientRects().length === 0) continue;
    const b = el.getBoundingClientRect();
    const name = el.id || el.className;
    if (!inside(b, controls)) problems.push(`the strip's ${name} is cut off`);
    const over = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
    if (over) problems.push(`the strip's ${name} overflows`);
  }
  rects.forEach((r, i) => {
    const w = Math.min(r.right, controls.right) - Math.max(r.left, controls.left);
    const h = Math.min(r.bottom, controls.bottom) - Math.max(r.top, controls.top);
    if (w > 1 && h > 1) problems.push(`card ${cards[i].dataset.player} is under the controls`);
  });
  return { problems, seats };
}"""

ANGLES = {"near": 0, "far": 180, "left": 90, "right": -90}


def wake_calls(app: App) -> list[str]:
    return [str(c) for c in app.page.evaluate("window.__wake")]


def decode_shown(app: App, selector: str) -> str:
    """The text of the QR code the page shows in the <img> at `selector`, decoded by zxing-cpp."""
    image = app.page.evaluate(READ_QR_IMAGE, selector)
    assert image["src"].startswith(f"{app.base_url}/qr?game="), image["src"]
    grey = base64.b64decode(image["grey"])
    assert len(grey) == image["width"] * image["height"]
    found = zxingcpp.read_barcodes(memoryview(grey).cast("B", (image["height"], image["width"])))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode, found
    return str(found[0].text)


def with_init_script(app: App, script: str) -> None:
    app.context.add_init_script(script)
    app.reload()


@pytest.mark.parametrize("players", [4, 6, 8])
def test_table_centre_mode_fits_every_seat_facing_its_player_on_a_tablet(
    open_app: OpenApp, players: int, screenshots_dir: Path
) -> None:
    tablet = open_app(width=1024, height=768)
    tablet.create_game(players=players)
    tablet.claim(1)
    # waiting: the free seats' "Take this seat" buttons fit too
    tablet.page.click("#btn-table")
    expect(tablet.page.locator("#btn-table")).to_have_attribute("aria-pressed", "true")
    expect(tablet.page.locator(".topbar")).to_be_hidden()
    assert tablet.page.evaluate(TABLE_AUDIT)["problems"] == []
    audit(tablet.page, f"table-centre view, {players} players, waiting")
    # the tablet shows the join QR code on demand while the seats fill up
    tablet.page.click("#btn-qr")
    expect(tablet.page.locator("#dlg-qr-img")).to_be_visible()
    assert decode_shown(tablet, "#dlg-qr-img") == tablet.share_link()
    tablet.page.click("#dlg-qr-close")
    tablet.page.click("#btn-start")
    expect(tablet.page.locator("#game")).to_have_attribute("data-status", "running")
    fit: dict[str, Any] = tablet.page.evaluate(TABLE_AUDIT)
    assert fit["problems"] == []
    audit(tablet.page, f"table-centre view, {players} players, running")
    seats = fit["seats"]
    assert len(seats) == players
    for seat in seats:
        assert seat["angle"] == ANGLES[seat["side"]], seat
        # readable from a metre away
        assert seat["clockPx"] >= 40, seat
        assert seat["lifePx"] >= 32, seat
    sides = {s["side"] for s in seats}
    assert {"near", "far"} <= sides
    if players >= 6:
        assert {"left", "right"} <= sides
    # the host's tablet passes from the active seat's own card, facing that player
    expect(tablet.card(1).locator(".pass-btn")).to_be_visible()
    tablet.card(1).locator(".pass-btn").click()
    expect(tablet.card(2)).to_have_class(ACTIVE)
    # with the undo toast in the strip beside the controls, once it has come in
    expect(tablet.page.locator("#undo-toast")).to_be_visible()
    tablet.page.wait_for_function("() => document.getElementById('undo-toast').getAnimations().length === 0")
    assert tablet.page.evaluate(TABLE_AUDIT)["problems"] == []
    tablet.page.screenshot(path=str(screenshots_dir / f"table-centre-{players}.png"))

    # the switch is remembered on the device, and turns back
    tablet.reload()
    expect(tablet.page.locator("body")).to_have_class(re.compile(r"\btable-mode\b"))
    tablet.page.click("#btn-table")
    expect(tablet.page.locator("body")).not_to_have_class(re.compile(r"\btable-mode\b"))
    expect(tablet.page.locator(".topbar")).to_be_visible()


def last_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    out: dict[str, Any] = max(states, key=lambda st: int(st["version"]))
    return out


@pytest.mark.parametrize("players", [4, 8])
def test_taps_at_life_counters_and_card_edges_in_table_centre_view_never_pass_the_turn(
    open_app: OpenApp, players: int
) -> None:
    """The host's tablet in the middle of the table, every seat turned to its player (the
    sides' seats only from 6 players on): a tap anywhere on a card but its pass button, as
    the misclick tests tap a phone's, leaves the turn where it is. Each seat's counters,
    opened, are there to tap too (a side seat's once lay outside its card, under the
    controls)."""
    tablet = open_app(width=1024, height=768)
    tablet.create_game(players=players)
    tablet.claim(1)
    tablet.page.click("#btn-table")
    expect(tablet.page.locator("body")).to_have_class(re.compile(r"\btable-mode\b"))
    tablet.start()
    page = tablet.page
    expect(tablet.card(1)).to_have_class(ACTIVE)
    sides = set(page.eval_on_selector_all("#board .card", "cs => cs.map((c) => c.dataset.side)"))
    assert sides == ({"near", "far", "left", "right"} if players >= 6 else {"near", "far"}), sides
    sent_before = len(tablet.sent)
    for pid in range(1, players + 1):
        card = tablet.card(pid)
        # its corners and edges as they lie on the screen, turned or not (8 px in stays
        # inside the rounded corners)
        box = card.bounding_box()
        assert box is not None
        x, y, w, h = box["x"], box["y"], box["width"], box["height"]
        for dx, dy in card_edges(w, h):
            page.mouse.click(x + dx, y + dy)
        card.locator(".clock").click()
        card.locator(".seat-chip").click()
        card.locator(".stat-life .stat-value").click()
        page.keyboard.press("Escape")
        card.locator(".stat-label").first.click()
        page.get_by_role("button", name=f"Increase life of player {pid}", exact=True).click()
        card.locator(".extras-toggle").click()
        page.get_by_role("button", name=f"Increase drunk of player {pid}", exact=True).click()
        page.get_by_role("button", name=f"Increase poison of player {pid}", exact=True).click()
        page.get_by_role("button", name=f"Increase counter of player {pid}", exact=True).click()
        card.locator(".extras-toggle").click()
        # the last change is back from the server: everything sent before it was applied
        expect(card.locator(".stat-life .stat-value")).to_have_text("21")
        expect(card.locator('.extras-toggle .sum[title="Counter"] .sum-value')).to_have_text("1")
    sent = [f.get("type") for f in tablet.sent[sent_before:]]
    assert "passTurn" not in sent and "switch" not in sent, sent
    assert sent.count("updatePlayer") == 4 * players, sent
    st = last_state(tablet)
    assert st["activePlayer"] == 1
    counts = [(p["life"], p["drunkCounter"], p["poison"], p["genericCounter"]) for p in st["players"]]
    assert counts == [(21, 1, 1, 1)] * players
    expect(tablet.card(1)).to_have_class(ACTIVE)
    # what does pass it: the active seat's own pass button
    tablet.card(1).locator(".pass-btn").click()
    expect(tablet.card(2)).to_have_class(ACTIVE)
    assert last_state(tablet)["activePlayer"] == 2


def test_the_screen_stays_on_while_the_game_runs_and_no_longer(open_app: OpenApp) -> None:
    app = open_app()
    with_init_script(app, WAKE_LOCK_STUB)
    code = app.create_game(players=2)
    app.claim(1)
    assert wake_calls(app) == []
    app.start()
    app.page.wait_for_function("() => window.__wake.length === 1")
    assert wake_calls(app) == ["request screen"]
    app.page.click("#btn-pause")
    app.page.wait_for_function("() => window.__wake.length === 2")
    assert wake_calls(app)[1] == "release"
    app.page.click("#btn-pause")
    app.page.wait_for_function("() => window.__wake.length === 3")
    assert wake_calls(app)[2] == "request screen"
    # hidden: the browser drops the lock; visible again: the page asks again
    app.page.evaluate("window.__setVisibility('hidden')")
    app.page.wait_for_function("() => window.__wake.length === 4")
    app.page.evaluate("window.__setVisibility('visible')")
    app.page.wait_for_function("() => window.__wake.length === 5")
    assert wake_calls(app)[3:] == ["lost", "request screen"]
    # leaving the running game lets the screen sleep
    app.page.click("#btn-leave")
    app.page.click("#confirm-ok")
    expect(app.page.locator("#home")).to_be_visible()
    app.page.wait_for_function("() => window.__wake.length === 6")
    assert wake_calls(app)[5] == "release"
    assert app.page.evaluate("window.__sentinels.every((s) => s.released)")

    # a finished game lets it sleep too
    app.page.get_by_role("button", name=f"Rejoin game {code}").click()
    expect(app.page.locator("#game")).to_have_attribute("data-status", "running")
    app.page.wait_for_function("() => window.__wake.length === 7")
    app.card(2).locator(".host-menu").click()
    app.page.click("#pm-eliminate")
    app.page.click("#confirm-ok")
    expect(app.page.locator("#game")).to_have_attribute("data-status", "finished")
    app.page.wait_for_function("() => window.__wake.length === 8")
    assert wake_calls(app)[6:] == ["request screen", "release"]


def test_a_browser_without_wake_lock_plays_the_same(open_app: OpenApp) -> None:
    app = open_app()
    with_init_script(app, NO_WAKE_LOCK)
    app.create_game(players=2)
    app.claim(1)
    app.start()
    app.page.click("#btn-pass")
    expect(app.card(2)).to_have_class(ACTIVE)
    app.page.click("#btn-pause")
    expect(app.page.locator("#game")).to_have_attribute("data-status", "paused")


def test_the_share_screen_qr_code_decodes_to_the_join_link(open_app: OpenApp) -> None:
    app = open_app()
    app.create_game(players=3)
    qr = app.page.locator("#share-qr")
    expect(qr).to_be_visible()
    assert decode_shown(app, "#share-qr") == app.share_link()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150


def test_the_create_form_remembers_the_last_settings_and_named_presets(open_app: OpenApp) -> None:
    app = open_app()
    app.fill_create_form(players=4, time_each="25", thresholds="5, 1", penalty="time_deduction", deduction="2")
    app.page.click("#create-submit")
    expect(app.cards()).to_have_count(4)
    app.page.click("#btn-leave")
    expect(app.page.locator("#home")).to_be_visible()
    app.reload()
    page = app.page
    expect(page.locator("#f-players")).to_have_value("4")
    expect(page.locator("#f-time")).to_have_value("25")
    expect(page.locator("#f-thresholds")).to_have_value("5, 1")
    expect(page.locator("#f-penalty")).to_have_value("time_deduction")
    expect(page.locator("#deduction-row")).to_be_visible()
    expect(page.locator("#f-deduction")).to_have_value("2")

    # a named preset, then other values; both presets come back after a reload
    app.fill_create_form(players=6, time_each="40", penalty="warning")
    page.fill("#f-preset-name", "Commander night")
    page.click("#btn-preset-save")
    expect(page.locator("#preset-status")).to_have_text("Saved “Commander night”.")
    app.fill_create_form(players=2, time_each="5")
    page.fill("#f-preset-name", "Duel")
    page.press("#f-preset-name", "Enter")
    expect(page.locator("#game")).to_be_hidden()
    app.reload()
    expect(page.locator("#f-players")).to_have_value("4")
    expect(page.locator("#f-preset option")).to_have_text(["Choose a preset…", "Commander night", "Duel"])
    page.select_option("#f-preset", "Commander night")
    expect(page.locator("#f-players")).to_have_value("6")
    expect(page.locator("#f-time")).to_have_value("40")
    expect(page.locator("#f-penalty")).to_have_value("warning")
    expect(page.locator("#deduction-row")).to_be_hidden()
    page.select_option("#f-preset", "Duel")
    expect(page.locator("#f-players")).to_have_value("2")
    page.click("#btn-preset-delete")
    expect(page.locator("#confirm-title")).to_have_text("Delete the preset “Duel”?")
    page.click("#confirm-ok")
    expect(page.locator("#f-preset option")).to_have_text(["Choose a preset…", "Commander night"])
    # what is stored stays usable whatever was typed by hand into storage
    page.evaluate("localStorage.setItem('tapotarp.presets.v1', '[1,2')")
    app.reload()
    expect(page.locator("#f-preset option")).to_have_text(["No presets yet"])
    app.create_game(players=2)


def test_a_spectator_is_told_so_and_can_take_a_free_seat_mid_game(open_app: OpenApp) -> None:
    host = open_app()
    code = host.create_game(players=3)
    host.claim(1)
    watcher = open_app(f"/?game={code}")
    banner = watcher.page.locator("#watching")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You are watching")
    expect(host.page.locator("#watching")).to_be_hidden()
    host.start()
    expect(watcher.page.locator("#game")).to_have_attribute("data-status", "running")
    take = watcher.page.locator("#btn-take-seat")
    expect(take).to_have_text("Take seat 2 (Player 2)")
    take.click()
    expect(watcher.card(2)).to_have_attribute("data-seat", "mine")
    expect(banner).to_be_hidden()
    expect(host.card(2)).to_have_attribute("data-seat", "taken")
    # a second spectator is offered the seat still free
    late = open_app(f"/?game={code}")
    expect(late.page.locator("#btn-take-seat")).to_have_text("Take seat 3 (Player 3)")
