"""The page decides on an error's code and only shows its message: a refusal is replaced on
the wire (`Wire`) by one with the same code and other words, or the same words and another
code, and the page must follow the code."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from service.errors import NOT_IN_GAME_MESSAGE
from tests.static.conftest import OpenApp
from tests.support.page import App, Wire

pytestmark = pytest.mark.slow


def refuse_claim(b: App, data: dict[str, str]) -> None:
    """`b` asks for seat 1; the service's answer is dropped and `data` is the error instead."""
    wire = b.wire
    assert isinstance(wire, Wire)
    wire.hold()
    b.card(1).locator(".claim-btn").click()
    rid = b.wait_sent("claim").get("requestId")
    assert isinstance(rid, str)
    wire.release(drop=rid)
    wire.inject({"type": "error", "requestId": rid, "data": data})


def test_game_not_found_in_other_words_still_sends_the_page_home(open_app: OpenApp) -> None:
    code = open_app().create_game(players=2)
    b = open_app(f"/?game={code}", wire=True)
    expect(b.card(1)).to_have_attribute("data-seat", "free")
    refuse_claim(b, {"message": "That game has gone", "code": "GAME_NOT_FOUND"})
    expect(b.page.locator("#home")).to_be_visible()
    assert code not in b.stored_games()


def test_the_words_of_game_not_found_under_another_code_are_only_shown(open_app: OpenApp) -> None:
    code = open_app().create_game(players=2)
    b = open_app(f"/?game={code}", wire=True)
    expect(b.card(1)).to_have_attribute("data-seat", "free")
    refuse_claim(b, {"message": "Game not found", "code": "PLAYER_CLAIMED"})
    expect(b.card(1)).to_contain_text("Game not found")
    b.page.wait_for_timeout(200)
    expect(b.page.locator("#game")).to_be_visible()
    assert code in b.stored_games()


def test_not_in_game_makes_the_page_rejoin_by_itself(open_app: OpenApp) -> None:
    code = open_app().create_game(players=2)
    b = open_app(f"/?game={code}", wire=True)
    expect(b.card(1)).to_have_attribute("data-seat", "free")
    joins = b.sent_types().count("join")
    refuse_claim(b, {"message": NOT_IN_GAME_MESSAGE, "code": "NOT_IN_GAME"})
    expect(b.card(1)).to_contain_text("Rejoining the game")
    deadline = time.monotonic() + 5
    while b.sent_types().count("join") == joins:
        assert time.monotonic() < deadline, b.sent_types()
        b.page.wait_for_timeout(50)
    expect(b.page.locator("#game")).to_be_visible()
