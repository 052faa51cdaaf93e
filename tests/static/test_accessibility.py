"""Accessibility measured on the rendered page: colour contrast (WCAG AA) in every card state,
touch targets, labels, the live region, layouts from 320 px to desktop, reduced motion."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.static.conftest import OpenApp
from tests.support.page import App

pytestmark = pytest.mark.slow

# For every visible element with its own text (and every field's value): the contrast of its
# colour against the background actually behind it, compositing translucent layers up to
# the page. Large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1. Disabled
# controls are exempt (WCAG 1.4.3).
CONTRAST_AUDIT = """
() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const bg = parse(getComputedStyle(n).backgroundColor);
      if (bg && bg.a > 0) layers.push(bg);
      if (bg && bg.a === 1) break;
    }
    let out = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) out = over(layer, out);
    return out;
  };
  const failures = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (el.closest('.sr-only, :disabled')) continue;
    const isField = el.matches('input, select');
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText && !(isField && el.value)) continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    checked += 1;
    if (ratio < (large ? 3 : 4.5)) {
      const text = (el.value || el.textContent).trim().slice(0, 30);
      failures.push(`${el.tagName.toLowerCase()}.${el.className} "${text}" ${ratio.toFixed(2)}`);
    }
  }
  return { checked, failures };
}
"""

# Every visible control: at least 44x44 CSS px, and a name a screen reader can read out.
TARGET_AUDIT = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('button, input, select, summary, [role="button"]')) {
    if (!el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    const tall = box.height >= 44 - 0.5;
    const wide = el.matches('input, select') || box.width >= 44 - 0.5;
    const labelled = (el.getAttribute('aria-label') || '').trim() || (el.labels && el.labels.length > 0)
      || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby')))
      || (el.matches('button') && el.textContent.trim());
    if (!tall || !wide || !labelled) {
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      out.push(`${el.outerHTML.slice(0, 90)} ${size} labelled=${!!labelled}`);
    }
  }
  return out;
}
"""


def audit(page: Page, state: str) -> None:
    result: dict[str, Any] = page.evaluate(CONTRAST_AUDIT)
    assert result["checked"] > 5, state
    assert result["failures"] == [], f"{state}: {result['failures']}"
    targets: list[str] = page.evaluate(TARGET_AUDIT)
    assert targets == [], f"{state}: {targets}"


def set_time(app: App, player: int, text: str) -> None:
    app.card(player).locator(".host-menu").click()
    app.page.click("#pm-time")
    app.page.fill("#t-time", text)
    app.page.click("#time-form button[type=submit]")
    expect(app.page.locator("#dlg-time")).to_be_hidden()


def eliminate(app: App, player: int) -> None:
    app.card(player).locator(".host-menu").click()
    app.page.click("#pm-eliminate")
    app.page.click("#confirm-ok")
    expect(app.card(player)).to_have_class(re.compile(r"\beliminated\b"))


def test_contrast_targets_and_labels_in_every_state(open_app: OpenApp) -> None:
    app = open_app(width=375, height=740)
    page = app.page
    audit(page, "home")
    app.fill_create_form(players="12", time_each="x")
    page.click("#create-submit")
    audit(page, "home with errors")

    app.create_game(players=5)
    app.claim(1)
    app.card(2).locator(".extras-toggle").click()
    audit(page, "waiting")
    set_time(app, 2, "4:00")
    set_time(app, 3, "0:30")
    set_time(app, 4, "0")
    expect(app.card(4)).to_have_class(re.compile(r"\btimeout\b"))
    app.start()
    expect(app.card(2)).to_have_class(re.compile(r"\bwarning\b"))
    expect(app.card(3)).to_have_class(re.compile(r"\bcritical\b"))
    # the banners and notices, which a game shows only now and then
    page.evaluate(
        """() => { for (const id of ['notice', 'banner']) document.getElementById(id).hidden = false;
                   document.getElementById('notice-text').textContent = 'Player 1: 30 seconds left';
                   document.getElementById('banner-text').textContent = 'The server is restarting.'; }"""
    )
    audit(page, "running, warning notice")
    page.evaluate("document.getElementById('notice').dataset.kind = 'timeout'")
    audit(page, "running, timeout notice")
    page.click("#btn-pause")
    expect(page.locator("#game")).to_have_attribute("data-status", "paused")
    audit(page, "paused")

    app.card(2).locator(".host-menu").click()
    audit(page, "host menu")
    page.click("#dlg-player [data-close]")
    page.click("#btn-settings")
    audit(page, "settings dialog")
    page.click("#dlg-settings [data-close]")

    for player in (5, 4, 3, 2):
        eliminate(app, player)
    expect(app.card(1)).to_have_class(re.compile(r"\bwinner\b"))
    audit(page, "finished")


def test_turns_and_results_are_announced_politely(open_app: OpenApp) -> None:
    app = open_app()
    app.create_game(players=2)
    app.claim(1)
    region = app.page.locator("#announcer")
    expect(region).to_have_attribute("aria-live", "polite")
    app.start()
    expect(region).to_have_text("Game started. Player 1's turn.")
    app.page.click("#btn-pass")
    expect(region).to_have_text("Player 2's turn.")
    app.page.click("#btn-pause")
    expect(region).to_have_text("Clock paused.")


def columns(page: Page) -> int:
    tops = page.eval_on_selector_all(
        "#board .card", "(cards) => cards.map((c) => Math.round(c.getBoundingClientRect().top))"
    )
    return sum(1 for top in tops if top == tops[0])


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def audit_on_a_phone(page: Page, state: str) -> None:
    """`audit` and no sideways scrolling at 320x640; the viewport is put back after."""
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    audit(page, state)
    assert no_sideways_scroll(page), state
    if size is not None:
        page.set_viewport_size(size)


def no_vertical_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollHeight <= window.innerHeight"))


LAYOUTS = {
    2: {(320, 640): 1, (375, 740): 1, (740, 360): 2, (1280, 800): 2},
    4: {(375, 740): 2, (740, 360): 4, (1280, 800): 2},
    6: {(320, 640): 2, (740, 375): 3, (640, 360): 3, (1280, 800): 3},
    8: {(320, 640): 2, (740, 375): 4, (640, 360): 4, (1280, 800): 4},
}

#: landscape phones, from a large one to a small one
LANDSCAPE_PHONES = ((740, 375), (640, 360))


def test_the_grid_follows_player_count_width_and_orientation_without_sideways_scrolling(open_app: OpenApp) -> None:
    app = open_app(width=320, height=640)
    assert no_sideways_scroll(app.page)
    for players, layouts in LAYOUTS.items():
        app.page.set_viewport_size({"width": 320, "height": 640})
        app.create_game(players=players)
        app.claim(1)
        for (width, height), expected in layouts.items():
            app.page.set_viewport_size({"width": width, "height": height})
            assert columns(app.page) == expected, (players, width, height)
            assert no_sideways_scroll(app.page), (players, width, height)
        if players == 4:
            # a landscape phone during play: every card whole, without scrolling
            app.page.set_viewport_size({"width": 740, "height": 375})
            app.start()
            for status in ("running", "paused"):
                expect(app.page.locator("#game")).to_have_attribute("data-status", status)
                assert columns(app.page) == 4, status
                assert no_vertical_scroll(app.page), status
                assert no_sideways_scroll(app.page), status
                assert app.page.evaluate(TARGET_AUDIT) == [], status
                app.page.click("#btn-pause")
        app.page.click("#btn-leave")
        if players == 4:
            # leaving a started game asks first
            app.page.click("#confirm-ok")
        expect(app.page.locator("#home")).to_be_visible()


@pytest.mark.parametrize("players", [6, 8])
def test_six_and_eight_players_play_on_a_landscape_phone_every_card_whole_without_scrolling(
    open_app: OpenApp, players: int, screenshots_dir: Path
) -> None:
    """As four players do at 740x375 (the test above): running, paused and with the undo toast
    showing, on a large and a small landscape phone, each card whole, nothing scrolling either
    way, every control 44 px, named and uncovered, every text AA (app.css folds the chrome into
    one slim bar and each card into three rows). Leaves artifacts/screenshots/landscape-6.png and
    landscape-8.png, at 740x375 while running."""
    app = open_app(width=740, height=375)
    app.create_game(players=players)
    app.claim(1)
    app.start()
    problems: list[str] = []

    def check(state: str) -> None:
        for width, height in LANDSCAPE_PHONES:
            app.page.set_viewport_size({"width": width, "height": height})
            where = f"{players} players at {width}x{height}, {state}"
            if (width, height, state) == (740, 375, "running"):
                # a relayout is a frame away; two make sure it was painted
                app.page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
                app.page.screenshot(path=str(screenshots_dir / f"landscape-{players}.png"))
            if not no_vertical_scroll(app.page):
                scroll = app.page.evaluate("document.documentElement.scrollHeight")
                problems.append(f"{where}: the page is {scroll} px tall")
            if not no_sideways_scroll(app.page):
                problems.append(f"{where}: scrolls sideways")
            problems.extend(f"{where}: {p}" for p in app.page.evaluate(CARDS_WHOLE))
            problems.extend(f"{where}: {t}" for t in app.page.evaluate(TARGET_AUDIT))
            problems.extend(f"{where}: contrast {c}" for c in app.page.evaluate(CONTRAST_AUDIT)["failures"])
            problems.extend(f"{where}: {c} is covered" for c in app.page.evaluate(BAR_COVERED))

    for status in ("running", "paused"):
        expect(app.page.locator("#game")).to_have_attribute("data-status", status)
        check(status)
        app.page.click("#btn-pause")
    # the host's own life change: its undo toast shows for half a minute, in the same bar
    app.page.get_by_role("button", name="Increase life of player 2", exact=True).click()
    expect(app.page.locator("#undo-toast")).to_be_visible()
    check("running, the undo toast showing")
    expect(app.page.locator("#undo-toast")).to_be_visible()
    assert problems == [], "\n".join(problems)


# Every visible button of the top bar and the controls that a tap at its centre would miss:
# something else lies on top of it.
BAR_COVERED = """
() => [...document.querySelectorAll('.topbar button, .controls button')]
  .filter((b) => b.checkVisibility())
  .filter((b) => {
    const r = b.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !(hit && b.contains(hit));
  })
  .map((b) => b.id || b.className)
"""


def test_the_active_card_pulses_unless_motion_is_reduced(open_app: OpenApp) -> None:
    glow = "getComputedStyle(document.querySelector('#board .card.active'), '::after').animationName"
    app = open_app(reduced_motion="reduce")
    app.create_game(players=2)
    app.claim(1)
    app.start()
    assert app.page.evaluate(glow) == "none"
    app.page.emulate_media(reduced_motion="no-preference")
    assert app.page.evaluate(glow) == "pulse"


# Every visible part of every card lies inside its card, and every card inside the viewport's
# width: nothing of a card is cut off, pushed out or hidden under its neighbour.
CARDS_WHOLE = """
() => {
  const out = [];
  for (const card of document.querySelectorAll('#board .card')) {
    const c = card.getBoundingClientRect();
    const where = `card ${card.dataset.player}`;
    const span = (r) => `${Math.round(r.left)}..${Math.round(r.right)} x ${Math.round(r.top)}..${Math.round(r.bottom)}`;
    if (c.left < -0.5 || c.right > window.innerWidth + 0.5) out.push(`${where} ${span(c)}`);
    for (const el of card.querySelectorAll('*')) {
      if (!el.checkVisibility() || el.closest('.sr-only')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (el.matches('input, .name') && el.scrollWidth > el.clientWidth + 1) {
        out.push(`${where}: ${el.className} cut off: ${el.scrollWidth} > ${el.clientWidth}`);
      }
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5) {
        const name = `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}`;
        out.push(`${where}: ${name} ${span(r)} outside ${span(c)}`);
      }
    }
  }
  return out;
}
"""


def test_a_commander_game_with_every_mark_on_the_cards_fits_a_320_px_phone_both_ways(open_app: OpenApp) -> None:
    """Counters, commander damage (partner too), a pending interrupt, targets being picked and
    a pending timeout choice, all at once on the host's phone at 320x568 and 568x320: nothing
    sideways, every control 44 px and named, every card whole. The counters are the server's;
    the turn marks come in one state no table reaches at once, sent to the page as the
    service sends it."""
    a = open_app(width=320, height=568, wire=True)
    page = a.page
    a.fill_create_form(players=4)
    page.click("#rules-create > summary")
    page.select_option("#f-rules-format", "commander")
    page.click("#timeout-create > summary")
    page.check("#f-timeout-on")
    page.click("#create-submit")
    expect(a.cards()).to_have_count(4)
    a.claim(1)
    a.start()
    a.card(2).locator(".extras-toggle").click()
    for name, times in (
        ("Increase poison of player 2", 2),
        ("Increase energy of player 2", 1),
        ("Increase experience of player 2", 3),
        ("Increase commander damage to player 2 from Player 1", 3),
        ("Increase partner commander damage to player 2 from Player 3", 1),
    ):
        for _ in range(times):
            page.get_by_role("button", name=name, exact=True).click()
    expect(a.card(2).locator('.cmd-cell[data-source="3"][data-partner="1"] .cmd-value')).to_have_text("1")
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("36")
    expect(a.card(2).locator(".sum-experience .sum-value")).to_have_text("3")

    page.click("#btn-target")
    page.get_by_role("button", name="Target Player 2", exact=True).click()
    expect(a.card(2).locator(".mark-target")).to_have_text("Targeted")
    st = [f["data"] for f in a.received if f.get("type") == "state"][-1]
    pending = {"timeoutPending": True, "timeoutGraceLeft": 200_000, "timeoutChoiceDeadline": st["serverTime"] + 200_000}
    st = {
        **st,
        "version": st["version"] + 1,
        "players": [{**p, **pending} if p["id"] == 4 else p for p in st["players"]],
    }
    assert a.wire is not None
    a.wire.inject({"type": "state", "data": st})
    expect(a.card(4).locator(".mark-timeout")).to_be_visible()
    expect(a.card(4).locator(".target-btn")).to_be_visible()
    fits_both_ways(page, "targets being picked, a timeout choice pending")
    a.wire.inject({"type": "state", "data": {**st, "version": st["version"] + 1, "interruptingPlayers": [3]}})
    expect(a.card(3).locator(".mark-priority")).to_have_text("Priority")
    expect(a.card(2).locator(".mark-target")).to_have_text("Targeted")
    expect(a.card(4).locator(".mark-timeout")).to_be_visible()
    fits_both_ways(page, "and an interrupt")


def fits_both_ways(page: Page, what: str) -> None:
    for width, height in ((320, 568), (568, 320)):
        page.set_viewport_size({"width": width, "height": height})
        state = f"4-player commander at {width}x{height}, {what}"
        assert no_sideways_scroll(page), state
        assert page.evaluate(CARDS_WHOLE) == [], state
        # the sticky controls (an undo toast in them too) leave the cards most of the screen
        bar = page.locator(".controls").bounding_box()
        assert bar is not None and bar["height"] <= height / 2, (state, bar)
        audit(page, state)
    page.set_viewport_size({"width": 320, "height": 568})
