"""Misclick-safe play: once a game has started only a pass control passes the turn; life takes
±1, ±5, a held button and a typed value; leaving a started game asks first."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_table_rules import seated
from tests.support.page import App, card_edges

pytestmark = pytest.mark.slow


ACTIVE = re.compile(r"\bactive\b")
#: life.js: REPEAT_EVERY_MS; three of them without a step prove the repeat stopped
REPEAT_EVERY_MS = 120


def last_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    assert states, "no state received"
    out: dict[str, Any] = max(states, key=lambda s: s["version"])
    return out


def running_pair(open_app: OpenApp) -> tuple[App, App]:
    """A (host) on seat 1 and B on seat 2 of a started 2-player game; seat 1 is active."""
    (a, b), _ = seated(open_app, 2, 2)
    a.start()
    expect(b.card(1)).to_have_class(ACTIVE)
    return a, b


def life(app: App, player: int) -> str:
    return app.card(player).locator(".stat-life .stat-value").inner_text()


def wait_life(app: App, player: int, op: str, value: int) -> None:
    """Until the life shown passes `value` (checked every frame: a held button steps fast)."""
    shown = f"""document.querySelector('#board .card[data-player="{player}"] .stat-life .stat-value')"""
    app.page.wait_for_function(f"() => Number({shown}.textContent) {op} {value}", polling="raf")


def test_taps_at_the_card_its_edges_life_and_counters_never_pass_the_turn(open_app: OpenApp) -> None:
    a, b = running_pair(open_app)
    card = a.card(1)
    sent_before = len(a.sent)
    # the card's corners and edges, its clock and name, the life number, the counters
    # (positions are within the padding box; 8 px in stays inside the rounded corners)
    w, h = card.evaluate("(el) => [el.clientWidth, el.clientHeight]")
    for x, y in card_edges(w, h):
        card.click(position={"x": x, "y": y})
    card.locator(".clock").click()
    card.locator(".seat-chip").click()
    # nor does the host's tap on another player's card (it used to give them the turn)
    a.card(2).locator(".clock").click()
    a.card(2).click(position={"x": 8, "y": 8})
    card.locator(".stat-life .stat-value").click()
    a.page.keyboard.press("Escape")
    card.locator(".stat-label").first.click()
    card.locator(".extras-toggle").click()
    a.page.get_by_role("button", name="Increase drunk of player 1").click()
    a.page.get_by_role("button", name="Increase counter of player 1").click()
    a.page.get_by_role("button", name="Increase life of player 1").click()
    # the last change reached B: everything sent before it has been applied
    expect(b.card(1).locator(".extras-toggle")).to_contain_text("1")
    expect(b.card(1).locator(".stat-life .stat-value")).to_have_text("21")
    sent = [f.get("type") for f in a.sent[sent_before:]]
    assert "passTurn" not in sent and "switch" not in sent, sent
    assert last_state(b)["activePlayer"] == 1
    expect(a.card(1)).to_have_class(ACTIVE)

    # the pass zone on the active player's own card does pass it; B's card has none now
    expect(b.card(2).locator(".pass-btn")).to_be_hidden()
    a.card(1).locator(".pass-btn").click()
    expect(b.card(2)).to_have_class(ACTIVE)
    assert last_state(b)["activePlayer"] == 2
    expect(a.card(1).locator(".pass-btn")).to_be_hidden()
    expect(b.card(2).locator(".pass-btn")).to_be_visible()


def test_life_takes_one_five_a_held_button_and_a_typed_value(open_app: OpenApp) -> None:
    a, b = running_pair(open_app)
    page = b.page
    page.get_by_role("button", name="Add 5 to the life of player 2").click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("25")
    page.get_by_role("button", name="Take 5 from the life of player 2").click()
    page.get_by_role("button", name="Decrease life of player 2").click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("19")

    # held: one step at once, then repeats until the pointer is lifted
    plus = page.get_by_role("button", name="Increase life of player 2")
    box = plus.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text(re.compile(r"^(2[0-9])$"))
    wait_life(b, 2, ">=", 24)
    page.mouse.up()
    held = life(b, 2)
    assert int(held) >= 24
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text(held)
    page.wait_for_timeout(3 * REPEAT_EVERY_MS)
    assert life(b, 2) == held
    # a hold that leaves the button stops too
    minus = page.get_by_role("button", name="Decrease life of player 2")
    box = minus.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    wait_life(b, 2, "<=", int(held) - 3)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 200)
    left_at = life(b, 2)
    page.wait_for_timeout(3 * REPEAT_EVERY_MS)
    page.mouse.up()
    assert life(b, 2) == left_at

    # typed: tap the number, type, Enter; Escape keeps the old value; nonsense is refused
    b.card(2).locator(".stat-life .stat-value").click()
    field = page.get_by_role("textbox", name="New life of player 2")
    expect(field).to_be_focused()
    field.fill("40")
    field.press("Enter")
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("40")
    b.card(2).locator(".stat-life .stat-value").click()
    field.fill("7")
    field.press("Escape")
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("40")
    b.card(2).locator(".stat-life .stat-value").click()
    field.fill("lots")
    field.press("Enter")
    expect(b.card(2).locator(".card-error")).to_contain_text("whole number")
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("40")
    assert last_state(a)["players"][1]["life"] == 40
    # others' life is shown, not editable
    expect(b.card(1).locator(".stat-life .stat-value")).to_be_disabled()
    expect(b.card(1).locator(".life-step")).to_have_count(4)
    for step in b.card(1).locator(".life-step").all():
        expect(step).to_be_hidden()
    assert last_state(a)["activePlayer"] == 1


def test_leaving_a_started_game_asks_first(open_app: OpenApp) -> None:
    a, b = running_pair(open_app)
    b.page.click("#btn-leave")
    expect(b.page.locator("#dlg-confirm")).to_be_visible()
    b.page.click("#dlg-confirm [data-close]")
    expect(b.page.locator("#game")).to_be_visible()
    expect(a.card(2)).to_have_attribute("data-seat", "taken")
    b.page.click("#btn-leave")
    b.page.click("#confirm-ok")
    expect(b.page.locator("#home")).to_be_visible()
    expect(a.card(2)).to_have_attribute("data-seat", "free")
