"""The home screen: creating with every setting, inline validation, joining, recent games."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp

pytestmark = pytest.mark.slow


def test_invalid_settings_are_explained_in_place_and_nothing_is_created(open_app: OpenApp) -> None:
    app = open_app()
    page = app.page
    expect(page.locator("#f-players")).to_have_value("2")
    expect(page.locator("#f-time")).to_have_value("10")
    expect(page.locator("#f-thresholds")).to_have_value("5, 1, 30s")
    expect(page.locator("#f-penalty")).to_have_value("warning")
    expect(page.locator("#deduction-row")).to_be_hidden()

    cases = [
        ({"players": "9"}, "#e-players", "Choose 2 to 8 players."),
        ({"players": "2.5"}, "#e-players", "Choose 2 to 8 players."),
        ({"time_each": "ten"}, "#e-time", "Enter a starting time like 10 (minutes), 90s or 1:30."),
        ({"time_each": "0"}, "#e-time", "A starting time must be between 1 s and 24 h."),
        ({"time_each": "25h"}, "#e-time", "A starting time must be between 1 s and 24 h."),
        ({"thresholds": " "}, "#e-thresholds", "Enter at least one warning time, e.g. 5, 1, 30s."),
        ({"thresholds": "5, soon"}, "#e-thresholds", "“soon” is not a time. Use minutes (5), seconds (30s) or 1:30."),
        ({"penalty": "time_deduction", "deduction": "lots"}, "#e-deduction", "Enter the time to deduct"),
    ]
    for fields, error_id, message in cases:
        form = {"players": "2", "time_each": "10", "thresholds": "5, 1, 30s", "penalty": "warning", **fields}
        app.fill_create_form(**form)
        page.click("#create-submit")
        expect(page.locator(error_id)).to_contain_text(message)
        invalid = page.locator("[aria-invalid=true]")
        expect(invalid).to_have_count(1)
        expect(invalid).to_be_focused()
    expect(page.locator("#home")).to_be_visible()
    assert "create" not in app.sent_types()

    # fixing the field clears its message as you type
    app.fill_create_form(players="3", time_each="10", thresholds="5", penalty="warning")
    expect(page.locator(".field-error:visible")).to_have_count(0)


def test_every_setting_reaches_the_server(open_app: OpenApp) -> None:
    app = open_app()
    code = app.create_game(players=4, time_each="1:30", thresholds="1, 30s", penalty="time_deduction", deduction="15s")
    create = app.wait_sent("create")
    assert create["data"] == {
        "settings": {
            "playerCount": 4,
            "initialTime": 90_000,
            "warningThresholds": [60_000, 30_000],
            "penaltyType": "time_deduction",
            "penaltyTimeDeduction": 15_000,
        }
    }
    assert isinstance(create.get("requestId"), str)
    expect(app.clock(4)).to_have_text("1:30")
    assert app.page.url.endswith(f"/?game={code}")


def test_joining_by_code_is_forgiving_and_errors_show_under_the_form(open_app: OpenApp) -> None:
    host = open_app()
    code = host.create_game()
    guest = open_app()
    page = guest.page

    guest.join_by_code("12")
    expect(page.locator("#join-error")).to_have_text("A game code is 6 letters and digits, like K7QX2M.")
    assert "join" not in guest.sent_types()

    guest.join_by_code("ZZZZZZ")
    expect(page.locator("#join-error")).to_contain_text("ZZZZZZ was not found")
    expect(page.locator("#home")).to_be_visible()

    guest.join_by_code(f"  {code[:3].lower()} {code[3:].lower()} ")
    expect(page.locator("#game-code")).to_have_text(code)
    expect(guest.cards()).to_have_count(2)

    guest.open("/?game=no!")
    expect(page.locator("#home-notice")).to_have_text("That link does not contain a valid game code.")


def test_recent_games_are_remembered_and_can_be_rejoined_or_forgotten(open_app: OpenApp) -> None:
    app = open_app()
    first = app.create_game()
    app.claim(2)
    app.page.click("#btn-leave")
    second = app.create_game(players=3)
    app.page.click("#btn-leave")
    app.reload()

    items = app.page.locator("#recent-list .recent-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(second)
    expect(items.nth(0)).to_contain_text("Host")
    expect(items.nth(1)).to_contain_text(first)

    # the host's token lives only here: forgetting it is asked first (tests/static/test_confirms.py)
    app.page.get_by_role("button", name=f"Forget game {second}").click()
    expect(app.page.locator("#confirm-title")).to_have_text(f"Forget game {second}?")
    app.page.click("#confirm-ok")
    expect(items).to_have_count(1)
    app.page.get_by_role("button", name=f"Rejoin game {first}").click()
    expect(app.page.locator("#game-code")).to_have_text(first)
    expect(app.page.locator("#host-controls")).to_be_visible()
