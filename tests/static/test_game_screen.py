"""The game screen with two devices: seats, turns, counters, names, host tools, leaving."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.support.page import App

pytestmark = pytest.mark.slow

ACTIVE = re.compile(r"\bactive\b")
SEEN_WITHIN_MS = 1_000


def two_seated(open_app: OpenApp, players: int = 2) -> tuple[App, App, str]:
    """A (host) creates and takes seat 1; B opens the share link and takes seat 2."""
    a = open_app()
    code = a.create_game(players=players)
    a.claim(1)
    b = open_app(a.share_link().removeprefix(a.base_url))
    expect(b.page.locator("#game-code")).to_have_text(code)
    b.claim(2)
    return a, b, code


def test_two_devices_play_a_game_and_each_sees_the_others_change_within_a_second(open_app: OpenApp) -> None:
    a = open_app()
    code = a.create_game(players=2)
    link = a.share_link()
    assert link == f"{a.base_url}/?game={code}"
    b = open_app(link.removeprefix(a.base_url))
    expect(b.page.locator("#game-code")).to_have_text(code)
    expect(b.card(1)).to_have_attribute("data-seat", "free")

    a.claim(1)
    expect(b.card(1)).to_have_attribute("data-seat", "taken", timeout=SEEN_WITHIN_MS)
    # tapping a free card claims it
    b.card(2).locator(".clock").click()
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    expect(a.card(2)).to_have_attribute("data-seat", "taken", timeout=SEEN_WITHIN_MS)

    a.start()
    expect(b.card(1)).to_have_class(ACTIVE, timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#status-text")).to_have_text("Player 1's turn")
    expect(b.page.locator("#btn-pass")).to_be_disabled()

    a.page.click("#btn-pass")
    expect(b.card(2)).to_have_class(ACTIVE, timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#status-text")).to_have_text("Your turn")
    expect(a.card(1)).not_to_have_class(ACTIVE)

    # the pass zone on B's own card passes the turn (a tap on the card itself never does)
    b.card(2).locator(".pass-btn").click()
    expect(a.card(1)).to_have_class(ACTIVE, timeout=SEEN_WITHIN_MS)

    name = b.card(2).locator(".name-input")
    name.fill("Bea")
    name.press("Enter")
    expect(a.card(2).locator(".name")).to_have_text("Bea", timeout=SEEN_WITHIN_MS)

    # taps faster than the replies: every one counts
    for _ in range(5):
        b.page.get_by_role("button", name="Increase life of player 2").click()
    b.page.get_by_role("button", name="Decrease life of player 2").click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("24", timeout=SEEN_WITHIN_MS)
    b.card(2).locator(".extras-toggle").click()
    b.page.get_by_role("button", name="Increase drunk of player 2").click()
    expect(a.card(2).locator(".extras-toggle")).to_contain_text("1", timeout=SEEN_WITHIN_MS)

    a.page.click("#btn-pause")
    expect(b.page.locator("#game")).to_have_attribute("data-status", "paused", timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#btn-pause")).to_have_text("Resume")


def test_each_device_edits_only_what_it_holds_and_names_stay_text(open_app: OpenApp) -> None:
    a, b, _ = two_seated(open_app)
    expect(a.page.locator("#host-controls")).to_be_visible()
    expect(a.card(2).locator(".host-menu")).to_be_visible()
    expect(b.page.locator("#host-controls")).to_be_hidden()
    expect(b.page.locator("#board .host-menu:visible")).to_have_count(0)
    # B may edit its own player only: no steppers or name field on A's card
    expect(b.card(1).locator(".name-input")).to_be_hidden()
    expect(b.card(1).locator(".step:visible")).to_have_count(0)
    expect(b.card(2).locator(".name-input")).to_be_visible()

    evil = '<img src=x onerror="window.__pwned=1">'
    field = a.card(1).locator(".name-input")
    field.fill(evil)
    field.press("Enter")
    expect(b.card(1).locator(".name")).to_have_text(evil, timeout=SEEN_WITHIN_MS)
    assert b.page.locator("#board img").count() == 0
    assert b.page.evaluate("window.__pwned") is None

    # a control character passes the client's checks; the server's refusal shows under the
    # field that caused it, matched by the action's requestId
    field = b.card(2).locator(".name-input")
    field.fill("Bad\u0001name")
    field.press("Enter")
    update = b.wait_sent("updatePlayer")
    assert isinstance(update.get("requestId"), str)
    expect(b.card(2).locator(".card-error")).to_have_text("Invalid player name")
    expect(b.page.locator("#game-error")).to_be_hidden()
    expect(field).to_have_value("Player 2")
    expect(a.card(2).locator(".name")).to_have_text("Player 2")


def test_host_penalises_sets_a_clock_eliminates_until_a_winner_then_resets(open_app: OpenApp) -> None:
    a, b, _ = two_seated(open_app, players=3)
    a.start()

    a.card(2).locator(".host-menu").click()
    expect(a.page.locator("#dlg-player")).to_be_visible()
    a.page.click("#pm-penalty")
    expect(b.card(2).locator(".penalties")).to_have_text("1", timeout=SEEN_WITHIN_MS)

    a.card(3).locator(".host-menu").click()
    a.page.click("#pm-time")
    field = a.page.locator("#t-time")
    expect(field).to_have_value("10:00")
    field.fill("4:30")
    a.page.click("#time-form button[type=submit]")
    expect(a.page.locator("#dlg-time")).to_be_hidden()
    expect(b.clock(3)).to_have_text("4:30", timeout=SEEN_WITHIN_MS)
    expect(b.card(3)).to_have_class(re.compile(r"\bwarning\b"))

    for pid in (3, 1):
        a.card(pid).locator(".host-menu").click()
        a.page.click("#pm-eliminate")
        expect(a.page.locator("#dlg-confirm")).to_be_visible()
        a.page.click("#confirm-ok")
        expect(b.card(pid)).to_have_class(re.compile(r"\beliminated\b"), timeout=SEEN_WITHIN_MS)
    expect(b.card(2)).to_have_class(re.compile(r"\bwinner\b"))
    expect(b.page.locator("#status-text")).to_have_text("Player 2 wins!")
    expect(b.page.locator("#announcer")).to_have_text("Player 2 wins the game!")

    # reset asks in the page first; cancelling sends nothing
    a.page.click("#btn-reset")
    expect(a.page.locator("#dlg-confirm")).to_be_visible()
    a.page.click("#dlg-confirm [data-close]")
    expect(a.page.locator("#dlg-confirm")).to_be_hidden()
    assert "reset" not in a.sent_types()
    a.page.click("#btn-reset")
    a.page.click("#confirm-ok")
    expect(b.page.locator("#game")).to_have_attribute("data-status", "waiting", timeout=SEEN_WITHIN_MS)
    expect(b.card(3)).not_to_have_class(re.compile(r"\beliminated\b"))
    expect(b.card(2)).to_have_attribute("data-seat", "mine")


def test_settings_dialog_shows_the_current_settings_and_saves_them(open_app: OpenApp) -> None:
    a = open_app()
    a.create_game(players=2, thresholds="3, 45s", penalty="time_deduction", deduction="2")
    a.page.click("#btn-settings")
    expect(a.page.locator("#s-thresholds")).to_have_value("3, 45s")
    expect(a.page.locator("#settings-penalty")).to_have_value("time_deduction")
    expect(a.page.locator("#s-deduction")).to_have_value("2")

    a.page.fill("#s-thresholds", "oops")
    a.page.click("#settings-form button[type=submit]")
    expect(a.page.locator("#se-thresholds")).to_be_visible()
    expect(a.page.locator("#dlg-settings")).to_be_visible()

    a.page.fill("#s-thresholds", "2, 1, 10s")
    a.page.select_option("#settings-penalty", "game_loss")
    a.page.click("#settings-form button[type=submit]")
    expect(a.page.locator("#dlg-settings")).to_be_hidden()
    update = a.wait_sent("updateSettings")
    assert update["data"] == {
        "warningThresholds": [120_000, 60_000, 10_000],
        "penaltyType": "game_loss",
        "penaltyTimeDeduction": 0,
    }

    a.page.click("#btn-settings")
    expect(a.page.locator("#s-thresholds")).to_have_value("2, 1, 10s")
    expect(a.page.locator("#settings-penalty")).to_have_value("game_loss")


def test_leaving_returns_home_and_frees_the_seat_but_a_started_game_keeps_it_for_a_rejoin(open_app: OpenApp) -> None:
    a, b, code = two_seated(open_app)
    b.page.click("#btn-leave")
    expect(b.page.locator("#home")).to_be_visible()
    assert b.page.url == f"{b.base_url}/"
    b.wait_sent("leave")
    expect(a.card(2)).to_have_attribute("data-seat", "free", timeout=SEEN_WITHIN_MS)
    # no later broadcast drags B back into the game (the original's defect)
    a.page.click("#btn-start")
    expect(a.page.locator("#game")).to_have_attribute("data-status", "running")
    expect(b.page.locator("#home")).to_be_visible()
    a.page.click("#btn-reset")
    a.page.click("#confirm-ok")
    expect(a.page.locator("#game")).to_have_attribute("data-status", "waiting")

    # while waiting, leaving gave the seat up: B comes back as a spectator
    item = b.page.locator("#recent-list .recent-item", has_text=code)
    expect(item).to_contain_text("Watching")
    item.get_by_role("button", name=f"Rejoin game {code}").click()
    expect(b.page.locator("#game-code")).to_have_text(code)
    expect(b.card(2)).to_have_attribute("data-seat", "free")

    # once started, leaving keeps the seat's token: a rejoin takes the seat back
    b.claim(2)
    a.start()
    b.page.click("#btn-leave")
    b.page.click("#confirm-ok")
    expect(a.card(2)).to_have_attribute("data-seat", "free", timeout=SEEN_WITHIN_MS)
    expect(item).to_contain_text("Seat 2")
    item.get_by_role("button", name=f"Rejoin game {code}").click()
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    expect(a.card(2)).to_have_attribute("data-seat", "taken", timeout=SEEN_WITHIN_MS)


def test_copy_button_puts_the_share_link_on_the_clipboard(open_app: OpenApp) -> None:
    a = open_app(permissions=["clipboard-read", "clipboard-write"])
    code = a.create_game()
    a.page.click("#btn-copy")
    expect(a.page.locator("#copy-status")).to_have_text("Link copied.")
    assert a.page.evaluate("navigator.clipboard.readText()") == f"{a.base_url}/?game={code}"
