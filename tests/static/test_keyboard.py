"""Shortcuts act on the game, never on what someone is typing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp

pytestmark = pytest.mark.slow

ACTIONS = ("passTurn", "pause", "switch", "start")


def test_shortcuts_do_not_fire_while_typing_and_do_outside_a_field(open_app: OpenApp) -> None:
    app = open_app()
    app.create_game(players=3)
    app.claim(1)
    app.start()
    game = app.page.locator("#game")

    name = app.card(1).locator(".name-input")
    name.focus()
    app.page.keyboard.press("End")
    app.page.keyboard.type(" p1")
    app.page.keyboard.press("Space")
    app.page.keyboard.press("P")
    app.page.keyboard.press("2")
    expect(name).to_have_value("Player 1 p1 P2")
    app.page.keyboard.press("Enter")
    expect(app.card(1).locator(".name-input")).to_have_value("Player 1 p1 P2")
    app.wait_sent("updatePlayer")
    # not a single action reached the wire while typing
    assert not [t for t in app.sent_types() if t in ACTIONS[:3]], app.sent_types()
    expect(app.card(1)).to_have_class(re.compile(r"\bactive\b"))
    expect(game).to_have_attribute("data-status", "running")
    expect(app.page.locator("#mute")).to_have_attribute("aria-pressed", "false")

    # modifiers belong to the browser and the OS
    app.page.keyboard.press("Alt+p")
    app.page.keyboard.press("Alt+3")
    # a dialog's fields are text entry too
    app.page.click("#btn-settings")
    app.page.locator("#s-thresholds").press("p")
    app.page.keyboard.press("Escape")
    expect(app.page.locator("#dlg-settings")).to_be_hidden()
    assert not [t for t in app.sent_types() if t in ACTIONS[:3]], app.sent_types()

    # outside any field the same keys act
    app.page.keyboard.press("Space")
    expect(app.card(2)).to_have_class(re.compile(r"\bactive\b"))
    app.page.keyboard.press("3")
    expect(app.card(3)).to_have_class(re.compile(r"\bactive\b"))
    app.page.keyboard.press("p")
    expect(game).to_have_attribute("data-status", "paused")
    # the broadcast can show "paused" before the reply settles the request, and a second
    # press while the first is in flight is ignored on purpose (no double toggle)
    expect(app.page.locator("#btn-pause")).to_be_enabled()
    app.page.keyboard.press("P")
    expect(game).to_have_attribute("data-status", "running")
    app.page.keyboard.press("m")
    expect(app.page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    assert [t for t in app.sent_types() if t in ACTIONS] == ["start", "passTurn", "switch", "pause", "pause"]


def test_space_passes_the_turn_after_a_button_was_clicked(open_app: OpenApp) -> None:
    app = open_app()
    app.create_game(players=2)
    app.claim(1)
    app.start()
    # a clicked button keeps no focus, so Space is the shortcut and not a second click
    app.page.get_by_role("button", name="Increase life of player 1").click()
    expect(app.card(1).locator(".stat-life .stat-value")).to_have_text("21")
    app.page.keyboard.press("Space")
    expect(app.card(2)).to_have_class(re.compile(r"\bactive\b"))
    expect(app.card(1).locator(".stat-life .stat-value")).to_have_text("21")
