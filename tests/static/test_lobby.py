"""The lobby (js/lobby.js) with several browser contexts on a real service: a named, listed
game in another device's open games list with its exact name, status and seats, joined from
there in one tap; the host's rename seen on every page, unlisting and listing again, rename
and delete offered to the host only; deleting the game sends every page home with a notice
and takes it out of their recent games; an unlisted create and the list's empty and error
states."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Route, expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit, no_sideways_scroll
from tests.support.page import App

pytestmark = pytest.mark.slow


EMPTY = "No open games right now. Create one, or join with a code."


#: lobby.js: REFRESH_MS
REFRESH_MS = 15_000

#: a document.visibilityState the test can set (window.__setVisibility)
VISIBILITY_STUB = """
let visibility = 'visible';
Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
Object.defineProperty(document, 'hidden', { configurable: true, get: () => visibility !== 'visible' });
window.__setVisibility = (v) => {
  visibility = v;
  document.dispatchEvent(new Event('visibilitychange'));
};
"""


def lobby_item(app: App, code: str) -> Locator:
    return app.page.locator(f'#lobby-list .lobby-item[data-game="{code}"]')


def refresh_lobby(app: App) -> None:
    """The Refresh button, and the read it starts finished."""
    app.page.click("#btn-lobby-refresh")
    expect(app.page.locator("#lobby")).to_have_attribute("aria-busy", "false")


def more(app: App) -> Locator:
    """Opens the table menu (More) and returns it."""
    app.page.click("#btn-more")
    menu = app.page.locator("#dlg-table")
    expect(menu).to_be_visible()
    return menu


def close_menu(app: App) -> None:
    app.page.locator("#dlg-table").get_by_role("button", name="Close").click()


def states(app: App) -> list[dict[str, Any]]:
    return [f["data"] for f in app.received if f.get("type") == "state"]


def create_named(app: App, name: str, players: int, *, listed: bool = True) -> str:
    app.fill_create_form(players=players)
    app.page.fill("#f-game-name", name)
    if not listed:
        app.page.uncheck("#f-listed")
    app.page.click("#create-submit")
    expect(app.cards()).to_have_count(players)
    expect(app.page.locator("#game-name")).to_have_text(name)
    code = app.page.inner_text("#game-code")
    assert len(code) == 6, code
    return code


def test_a_named_game_is_found_joined_renamed_unlisted_and_deleted_from_other_devices(open_app: OpenApp) -> None:
    host = open_app()
    code = create_named(host, "Friday <b>Commander</b>", 4)
    # the name went to the service as typed (escaped only where shown), after a plain create
    create = next(f for f in host.sent if f.get("type") == "create")
    assert "name" not in create["data"]["settings"] and "listed" not in create["data"]["settings"]
    assert host.wait_sent("renameGame")["data"] == {"name": "Friday <b>Commander</b>"}
    assert "setListed" not in host.sent_types()
    expect(host.page.locator("#game-name")).to_have_text("Friday <b>Commander</b>")
    assert host.page.title() == f"Friday <b>Commander</b> · {code} · Tap or Tarp"
    host.claim(1)

    # another phone on its home screen finds the game in the open games, exactly as it is
    guest = open_app()
    item = lobby_item(guest, code)
    expect(item).to_be_visible()
    expect(item.locator(".lobby-name")).to_have_text("Friday <b>Commander</b>")
    expect(item.locator(".lobby-code")).to_have_text(code)
    expect(item.locator(".lobby-status-label")).to_have_text("Waiting for players")
    expect(item.locator(".lobby-seats")).to_have_text("1/4 seats")
    expect(item.locator(".lobby-mode")).to_have_text("Casual")
    expect(item.locator(".lobby-ago")).to_have_text("just now")
    assert item.locator("b").count() == 0
    # readable and tappable, from a 320 px phone up
    for width, height in ((320, 640), (1280, 800)):
        guest.page.set_viewport_size({"width": width, "height": height})
        audit(guest.page, f"open games at {width} px")
        assert no_sideways_scroll(guest.page), width
    # one tap joins it (watching), one more takes a seat
    item.get_by_role("button", name=f"Join Friday <b>Commander</b> ({code})").click()
    expect(guest.page.locator("#game-code")).to_have_text(code)
    expect(guest.page.locator("#game-name")).to_have_text("Friday <b>Commander</b>")
    guest.claim(2)

    # a third device sees the seats taken and the game running once the host starts it
    third = open_app()
    expect(lobby_item(third, code).locator(".lobby-seats")).to_have_text("2/4 seats")
    host.start()
    refresh_lobby(third)
    expect(lobby_item(third, code).locator(".lobby-status-label")).to_have_text("Running")
    expect(lobby_item(third, code).locator(".lobby-seats")).to_have_text("2/4 seats")
    lobby_item(third, code).get_by_role("button", name=re.compile("^Join ")).click()
    expect(third.page.locator("#watching")).to_be_visible()

    # rename, list and delete are the host's: a seated player and a spectator are not offered them
    for other in (guest, third):
        menu = more(other)
        for button in ("#btn-rename-game", "#btn-listed", "#btn-end-game"):
            expect(menu.locator(button)).to_be_hidden()
        close_menu(other)

    # the host renames the game: every page shows the new name, and the lobby list too
    menu = more(host)
    expect(menu.locator("#btn-rename-game")).to_be_visible()
    audit(host.page, "the host's table menu")
    menu.locator("#btn-rename-game").click()
    expect(host.page.locator("#rename-input")).to_have_value("Friday <b>Commander</b>")
    audit(host.page, "rename dialog")
    host.page.fill("#rename-input", "x" * 51)
    expect(host.page.locator("#rename-input")).to_have_value("x" * 50)
    host.page.fill("#rename-input", "  Sunday brawl  ")
    host.page.locator("#dlg-rename button[type=submit]").click()
    expect(host.page.locator("#dlg-rename")).to_be_hidden()
    assert [f["data"] for f in host.sent if f.get("type") == "renameGame"][-1] == {"name": "Sunday brawl"}
    for app in (host, guest, third):
        expect(app.page.locator("#game-name")).to_have_text("Sunday brawl")
        assert states(app)[-1]["name"] == "Sunday brawl"
    assert [f["data"] for f in host.received if f.get("type") == "gameRenamed"][-1] == {"name": "Sunday brawl"}
    watcher = open_app()
    expect(lobby_item(watcher, code).locator(".lobby-name")).to_have_text("Sunday brawl")

    # unlisted: gone from the list (the code still works); listed again: back
    menu = more(host)
    expect(menu.locator("#btn-listed")).to_have_text("Unlist from open games")
    menu.locator("#btn-listed").click()
    expect(host.page.locator("#btn-listed")).to_have_attribute("data-listed", "false")
    assert states(host)[-1]["listed"] is False
    refresh_lobby(watcher)
    expect(lobby_item(watcher, code)).to_have_count(0)
    menu = more(host)
    expect(menu.locator("#btn-listed")).to_have_text("List in open games")
    menu.locator("#btn-listed").click()
    expect(host.page.locator("#btn-listed")).to_have_attribute("data-listed", "true")
    refresh_lobby(watcher)
    expect(lobby_item(watcher, code).locator(".lobby-name")).to_have_text("Sunday brawl")

    # deleting asks first: Cancel keeps the game
    for app in (host, guest, third):
        assert code in app.stored_games()
    menu = more(host)
    menu.locator("#btn-end-game").click()
    confirm = host.page.locator("#dlg-confirm")
    expect(confirm.locator("#confirm-title")).to_have_text(f"Delete Sunday brawl ({code})?")
    confirm.get_by_role("button", name="Cancel").click()
    assert "endGame" not in host.sent_types()
    expect(host.page.locator("#game")).to_be_visible()
    # a player looking at the table menu when the game goes: it goes too
    more(guest)
    more(host).locator("#btn-end-game").click()
    host.page.click("#confirm-ok")
    expect(guest.page.locator("#dlg-table")).to_be_hidden()
    # every page in the game goes home with the notice, and forgets the game
    expect(host.page.locator("#home")).to_be_visible()
    expect(host.page.locator("#home-notice")).to_have_text(f"You deleted Sunday brawl ({code}).")
    for app in (guest, third):
        expect(app.page.locator("#home")).to_be_visible()
        expect(app.page.locator("#home-notice")).to_have_text(
            f"The host deleted Sunday brawl ({code}). It is gone, and no longer in your recent games."
        )
    for app in (host, guest, third):
        assert app.page.url == f"{app.base_url}/"
        assert code not in app.stored_games()
        expect(app.page.locator(f'#recent-list button[data-code="{code}"]')).to_have_count(0)
        assert [f["data"] for f in app.received if f.get("type") == "gameEnded"] == [{"gameId": code}]
        # and from the open games
        refresh_lobby(app)
        expect(lobby_item(app, code)).to_have_count(0)
        expect(app.page.locator("#game-name")).to_be_hidden()
    # the host's request was answered by gameEnded, not left to time out
    end = next(f for f in host.sent if f.get("type") == "endGame")
    assert any(f.get("type") == "gameEnded" and f.get("requestId") == end["requestId"] for f in host.received)
    assert host.page.locator("#game-error").is_hidden()


def test_an_unlisted_game_is_never_listed_and_the_list_says_when_it_is_empty_or_failed(open_app: OpenApp) -> None:
    host = open_app()
    code = create_named(host, "Private table", 2, listed=False)
    assert host.wait_sent("setListed")["data"] == {"listed": False}
    expect(host.page.locator("#btn-listed")).to_have_attribute("data-listed", "false")

    # another device: the game is not in the list
    other = open_app()
    expect(other.page.locator("#lobby")).to_have_attribute("aria-busy", "false")
    expect(lobby_item(other, code)).to_have_count(0)
    # by its code it still opens
    other.join_by_code(code)
    expect(other.page.locator("#game-name")).to_have_text("Private table")
    other.page.click("#btn-leave")
    expect(other.page.locator("#home")).to_be_visible()

    # the list is read every REFRESH_MS while the home screen is in view, and only then
    idle = open_app()
    idle.context.add_init_script(VISIBILITY_STUB)
    idle.page.clock.install()
    idle.reload()
    reads: list[str] = []
    idle.page.on("request", lambda r: reads.append(r.url) if "/api/games" in r.url else None)
    expect(idle.page.locator("#lobby")).to_have_attribute("aria-busy", "false")

    def read_after(ms: int) -> int:
        before = len(reads)
        idle.page.clock.run_for(ms)
        idle.page.wait_for_timeout(50)
        return len(reads) - before

    assert read_after(REFRESH_MS - 1_000) == 0
    assert read_after(1_000) == 1
    assert read_after(REFRESH_MS) == 1
    # a hidden page reads nothing, and reads at once when shown again
    idle.page.evaluate("window.__setVisibility('hidden')")
    assert read_after(3 * REFRESH_MS) == 0
    before = len(reads)
    idle.page.evaluate("window.__setVisibility('visible')")
    idle.page.wait_for_timeout(200)
    assert len(reads) - before == 1
    # in a game: nothing; back home: at once
    idle.join_by_code(code)
    expect(idle.page.locator("#game-name")).to_have_text("Private table")
    assert read_after(3 * REFRESH_MS) == 0
    before = len(reads)
    idle.page.click("#btn-leave")
    expect(idle.page.locator("#home")).to_be_visible()
    idle.page.wait_for_timeout(200)
    assert len(reads) - before == 1

    # an empty list says so; a failing one says that, and Refresh tries again
    empty: dict[str, Any] = {"games": [], "nextCursor": None, "instanceId": "web"}
    failing = {"now": False}

    def answer(route: Route) -> None:
        if failing["now"]:
            route.fulfill(status=500, content_type="application/json", body='{"error": "Failed to list games"}')
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(empty))

    other.page.route("**/api/games*", answer)
    # the browser logs the 500 it is served on purpose; nothing else may be logged
    other.expect_console_error(
        "Failed to load resource: the server responded with a status of 500 (Internal Server Error)",
        source="/api/games",
    )
    refresh_lobby(other)
    expect(other.page.locator("#lobby-status")).to_have_text(EMPTY)
    expect(other.page.locator("#lobby-list .lobby-item")).to_have_count(0)
    failing["now"] = True
    refresh_lobby(other)
    expect(other.page.locator("#lobby-error")).to_have_text("Could not load the open games. The server answered 500.")
    failing["now"] = False
    refresh_lobby(other)
    expect(other.page.locator("#lobby-error")).to_be_hidden()
    expect(other.page.locator("#lobby-status")).to_have_text(EMPTY)
