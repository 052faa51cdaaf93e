"""Races the service cannot be made to lose on demand: its frames are held back, reordered or
replaced on the wire (`Wire`) so that an answer arrives after the person already moved on."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.support.page import App, Wire

pytestmark = pytest.mark.slow


def wire_of(app: App) -> Wire:
    assert app.wire is not None
    return app.wire


def request_id_of(app: App, mtype: str) -> str:
    rid = app.wait_sent(mtype).get("requestId")
    assert isinstance(rid, str)
    return rid


def wait_received(app: App, mtype: str, count: int = 1, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while [f.get("type") for f in app.received].count(mtype) < count:
        assert time.monotonic() < deadline, f"fewer than {count} {mtype!r} frames received"
        app.page.wait_for_timeout(50)


def test_the_restart_banner_goes_once_the_page_is_reconnected_even_outside_a_game(open_app: OpenApp) -> None:
    app = open_app(wire=True)
    wire = wire_of(app)
    wire.inject({"type": "shutdown_warning", "data": {"message": "Server restarting", "timeout": 5_000}})
    expect(app.page.locator("#banner")).to_contain_text("restarting")
    wire.close_as_restarting_service()
    # the new socket is up once the service greets it again
    wait_received(app, "clientId", count=2, timeout=15.0)
    app.expect_connection("connected")
    expect(app.page.locator("#banner")).to_be_hidden()


def test_a_seat_confirmed_after_leaving_is_not_remembered(open_app: OpenApp) -> None:
    a = open_app()
    code = a.create_game(players=2)
    b = open_app(f"/?game={code}", wire=True)
    expect(b.card(2)).to_have_attribute("data-seat", "free")
    wire = wire_of(b)
    wire.hold()
    b.card(2).locator(".claim-btn").click()
    b.wait_sent("claim")
    # left before the seat was confirmed: the service gives the seat up again (waiting game)
    b.page.click("#btn-leave")
    expect(b.page.locator("#home")).to_be_visible()
    b.wait_sent("leave")
    wire.release()
    expect(a.card(2)).to_have_attribute("data-seat", "free")
    expect(b.page.locator("#recent-list .recent-item", has_text=code)).to_contain_text("Watching")
    assert "seat" not in b.stored_games()[code]


def test_a_late_refusal_from_the_previous_game_does_not_throw_the_page_out_of_the_next(open_app: OpenApp) -> None:
    a = open_app()
    first = a.create_game(players=2)
    other = open_app()
    second = other.create_game(players=2)
    b = open_app(f"/?game={first}", wire=True)
    expect(b.card(1)).to_have_attribute("data-seat", "free")
    wire = wire_of(b)
    wire.hold()
    b.card(1).locator(".claim-btn").click()
    claim = request_id_of(b, "claim")
    b.page.click("#btn-leave")
    b.join_by_code(second)
    b.wait_sent("join")
    # the first game's answer comes last, and says that game is gone
    wire.release(drop=claim)
    expect(b.page.locator("#game-code")).to_have_text(second)
    wire.inject({"type": "error", "requestId": claim, "data": {"message": "Game not found", "code": "GAME_NOT_FOUND"}})
    expect(b.page.locator("#game")).to_be_visible()
    expect(b.cards()).to_have_count(2)
    b.page.wait_for_timeout(200)
    expect(b.page.locator("#game")).to_be_visible()
    assert second in b.stored_games()
    assert re.search(rf"\?game={second}$", b.page.url)
