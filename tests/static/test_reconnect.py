"""Coming back: a reload, a restarted server, a stored token the server no longer accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.static.conftest import OpenApp
from tests.support.page import App

pytestmark = pytest.mark.slow

ACTIVE = re.compile(r"\bactive\b")


def seated_game(open_app: OpenApp, base_url: str | None = None) -> tuple[App, App, str]:
    a = open_app(base_url=base_url)
    code = a.create_game(players=2)
    a.claim(1)
    b = open_app(f"/?game={code}", base_url=base_url)
    b.claim(2)
    a.start()
    return a, b, code


def test_a_reload_mid_game_brings_back_the_seat_and_host_rights_without_user_action(open_app: OpenApp) -> None:
    a, b, code = seated_game(open_app)
    before = len(a.sent)
    a.reload()
    assert a.page.url.endswith(f"/?game={code}")
    expect(a.card(1)).to_have_attribute("data-seat", "mine")
    expect(a.page.locator("#host-controls")).to_be_visible()
    expect(a.card(1)).to_have_class(ACTIVE)
    expect(a.page.locator("#btn-pass")).to_be_enabled()
    after = [f for f in a.sent[before:] if f["type"] not in ("time",)]
    assert [f["type"] for f in after] == ["reconnect"]
    assert after[0]["data"]["gameId"] == code
    assert after[0]["data"]["playerId"] == 1
    assert after[0]["data"]["token"] and after[0]["data"]["hostToken"]

    b.reload()
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    expect(b.page.locator("#host-controls")).to_be_hidden()
    # the reloaded host still acts as host and player: the turn passes, B sees it
    a.page.click("#btn-pass")
    expect(b.card(2)).to_have_class(ACTIVE, timeout=1_000)


def test_a_stored_token_the_server_rejects_is_dropped_and_the_page_joins_as_a_spectator(open_app: OpenApp) -> None:
    a = open_app()
    code = a.create_game(players=2)
    b = open_app()
    bogus = {code: {"lastSeen": 1 << 52, "seat": {"playerId": 2, "token": "f" * 64}, "hostToken": "e" * 64}}
    b.page.evaluate("(v) => localStorage.setItem('tapotarp.games.v1', v)", json.dumps(bogus))
    b.open(f"/?game={code}")
    expect(b.page.locator("#game-code")).to_have_text(code)
    expect(b.card(2)).to_have_attribute("data-seat", "free")
    expect(b.page.locator("#host-controls")).to_be_hidden()
    expect(b.page.locator("#game-error")).to_contain_text("could not be restored")
    assert b.sent_types().count("join") == 1
    stored = json.loads(b.page.evaluate("localStorage.getItem('tapotarp.games.v1')"))
    assert "seat" not in stored[code] and "hostToken" not in stored[code]
    # and the spectator can now take the free seat like anyone
    b.claim(2)
    expect(a.card(2)).to_have_attribute("data-seat", "taken")


def test_a_game_that_no_longer_exists_sends_the_page_home_with_a_message(open_app: OpenApp) -> None:
    b = open_app()
    gone = {"ZZZZZZ": {"lastSeen": 1 << 52, "hostToken": "e" * 64}}
    b.page.evaluate("(v) => localStorage.setItem('tapotarp.games.v1', v)", json.dumps(gone))
    b.open("/?game=zzzzzz")
    expect(b.page.locator("#home")).to_be_visible()
    expect(b.page.locator("#join-error")).to_contain_text("ZZZZZZ was not found")
    expect(b.page.locator("#recent")).to_be_hidden()
    assert b.page.url == f"{b.base_url}/"


@pytest.fixture
def own_service(redis_proc: RedisProcess, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A service this test may stop and start again on the same port."""
    proc = ServiceProcess(redis_proc.url, tmp_path, name="restart").start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_server_restart_shows_the_warning_then_every_page_reconnects_by_itself(
    open_app: OpenApp, own_service: ServiceProcess
) -> None:
    a, b, code = seated_game(open_app, base_url=own_service.url)
    watcher = open_app(f"/?game={code}", base_url=own_service.url)
    expect(watcher.card(1)).to_have_class(ACTIVE)

    # each try while the service is down is refused, and Chromium logs every refusal; how many
    # tries a page makes (none, if its jittered wait outlasts the restart) is up to chance
    refused = (
        f"WebSocket connection to '{own_service.url.replace('http://', 'ws://', 1)}/ws?ticks=0' failed: "
        "Error in connection establishment: net::ERR_CONNECTION_REFUSED"
    )
    for page in (a, b, watcher):
        page.expect_console_error(refused, source="/static/js/net.js", required=False)
    assert own_service.terminate() == 0
    for page in (a, b, watcher):
        expect(page.page.locator("#banner")).to_contain_text("restarting")
        page.expect_connection("reconnecting")

    own_service.start()
    for page in (a, b, watcher):
        # full jitter under a 10 s cap: a page may wait a few seconds before its next try
        page.expect_connection("connected", timeout=15_000)
        expect(page.page.locator("#banner")).to_be_hidden()
    expect(a.card(1)).to_have_attribute("data-seat", "mine")
    expect(a.page.locator("#host-controls")).to_be_visible()
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    # the spectator re-joined too (the original left such sockets frozen)
    a.page.click("#btn-pass")
    expect(watcher.card(2)).to_have_class(ACTIVE, timeout=1_000)
    expect(watcher.page.locator("#status-text")).to_have_text("Player 2's turn")


def test_after_a_host_handover_a_reload_keeps_the_role_with_the_new_host_only(open_app: OpenApp) -> None:
    """transferHost (sent on the host page's own socket: the page has no button for it yet)
    deletes the host token: the old host's reload drops it and takes its seat back alone, and
    the new host's reload brings the role back with its seat token."""
    a = open_app(wire=True)
    code = a.create_game(players=2)
    a.claim(1)
    b = open_app(f"/?game={code}")
    b.claim(2)
    a.start()
    assert a.wire is not None and a.wire.server_side is not None
    a.wire.server_side.send(json.dumps({"type": "transferHost", "data": {"playerId": 2}, "requestId": "handover"}))
    expect(b.page.locator("#host-controls")).to_be_visible()
    expect(a.page.locator("#host-controls")).to_be_hidden()

    a.reload()
    expect(a.card(1)).to_have_attribute("data-seat", "mine")
    expect(a.page.locator("#host-controls")).to_be_hidden()
    expect(a.page.locator("#game-error")).to_contain_text("Host rights could not be restored")
    assert "hostToken" not in a.stored_games()[code]
    b.reload()
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    expect(b.page.locator("#host-controls")).to_be_visible()
    assert [f["type"] for f in b.sent if f["type"] in ("reconnect", "join")][-1] == "reconnect"


def test_a_player_the_host_moved_to_another_seat_plays_on_there_and_a_reload_keeps_it(open_app: OpenApp) -> None:
    a = open_app(wire=True)
    code = a.create_game(players=3)
    b = open_app(f"/?game={code}")
    b.claim(2)
    a.start()
    assert a.wire is not None and a.wire.server_side is not None
    move = {"type": "moveSeat", "data": {"fromPlayerId": 2, "toPlayerId": 3}, "requestId": "move"}
    a.wire.server_side.send(json.dumps(move))
    expect(b.card(3)).to_have_attribute("data-seat", "mine")
    expect(b.card(2)).to_have_attribute("data-seat", "free")

    b.reload()
    expect(b.card(3)).to_have_attribute("data-seat", "mine")
    assert b.stored_games()[code]["seat"]["playerId"] == 3
