"""Every destructive action asks first, and the question is a real one: cancelled, nothing at
all reaches the server; confirmed, the action is done, for every device in the game. Several
browser contexts on a real service: the host, two seated players (one of them the observer
that must see exactly one new version per confirmed action) and the seat the host moves, frees
and kicks.

Covered here: the play-order roll, moving a player to another seat, freeing a seat, the
host's undo of several actions at once, kicking, resetting, handing over the host role and
deleting the game; and forgetting a recent game that still holds a seat or the host role (a
token kept on this device alone).

"Nothing reached the server" is checked after a round trip on the actor's own socket (a
`history` read, opened from More): the service answers one socket's frames in order, so
whatever the cancelled dialog might have sent would have been answered before it. By then the
actor sent no frame of the action's type and has no newer state than before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

#: how long a change may take to reach another device: a bound on waiting, not a latency claim
SEEN_WITHIN_MS = 10_000


def states(app: App) -> list[dict[str, Any]]:
    return [f["data"] for f in app.received if f.get("type") == "state"]


def newest(app: App) -> dict[str, Any]:
    return max(states(app), key=lambda s: int(s["version"]))


def sent(app: App, mtype: str) -> list[dict[str, Any]]:
    return [f["data"] for f in app.sent if f.get("type") == mtype]


def player(st: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in st["players"] if p["id"] == pid)


def round_trip(app: App) -> None:
    """More → History: the `history` reply is in once its entries show."""
    app.page.click("#btn-more")
    app.page.click("#btn-history")
    expect(app.page.locator("#dlg-history .history-entry").first).to_be_visible()
    app.page.locator("#dlg-history").get_by_role("button", name="Close").click()
    expect(app.page.locator("dialog[open]")).to_have_count(0)


def seen(app: App, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The app's newest state once `check` holds for it."""
    for _ in range(SEEN_WITHIN_MS // 25):
        st = newest(app)
        if check(st):
            return st
        app.page.wait_for_timeout(25)
    raise AssertionError(f"never seen: {newest(app)}")


def asked(
    actor: App,
    observer: App,
    mtype: str,
    title: str,
    open_confirm: Callable[[], None],
    done: Callable[[dict[str, Any]], bool],
    under: str | None = None,
) -> dict[str, Any]:
    """Opens the action's confirm and cancels it: nothing reaches the server. Then opens it
    again and confirms: the observer's next version is the action's, and it is done. `under`
    is the dialog the confirm was opened from, closed after the cancel."""
    # the two devices agree first: a device's own reply may come after another device's
    # broadcast of the same version
    seen(observer, lambda s: s["version"] >= newest(actor)["version"])
    before = newest(observer)
    seen(actor, lambda s: s["version"] == before["version"])
    assert not done(before)
    had = len(sent(actor, mtype))

    open_confirm()
    expect(actor.page.locator("#confirm-title")).to_have_text(title)
    actor.page.click("#dlg-confirm [data-close]")
    expect(actor.page.locator("#dlg-confirm")).to_be_hidden()
    if under is not None:
        actor.page.locator(under).get_by_role("button", name="Close").click()
    round_trip(actor)
    assert len(sent(actor, mtype)) == had, f"{title}: cancelled, yet sent"
    assert newest(actor)["version"] == before["version"], f"{title}: cancelled, yet the game changed"

    open_confirm()
    expect(actor.page.locator("#confirm-title")).to_have_text(title)
    actor.page.click("#confirm-ok")
    after = seen(observer, done)
    assert len(sent(actor, mtype)) == had + 1
    following = [s for s in states(observer) if int(s["version"]) > int(before["version"])]
    assert int(following[0]["version"]) == int(before["version"]) + 1 and done(following[0]), title
    return after


def test_cancelled_confirms_change_nothing_and_confirmed_ones_act_for_everyone(open_app: OpenApp) -> None:
    (a, b, c), code = seated(open_app, 4, 3)
    for app in (a, b, c):
        expect(app.card(3)).to_have_attribute("data-seat", "mine" if app is c else "taken")

    def menu(app: App, seat: int, item: str) -> Callable[[], None]:
        def open_() -> None:
            app.card(seat).locator(".host-menu").click()
            app.page.locator(item).click()

        return open_

    def more(app: App, item: str) -> Callable[[], None]:
        def open_() -> None:
            app.page.click("#btn-more")
            app.page.click(item)

        return open_

    # the play order replaces the seats' order for good
    def rolled(st: dict[str, Any]) -> bool:
        rolls = [f["data"]["newOrder"] for f in b.received if f.get("type") == "playOrderRolled"]
        return len(rolls) == 1 and [p["id"] for p in st["players"]] == [*rolls[0], 4]

    asked(a, b, "rollPlayOrder", "Roll for play order?", more(a, "#btn-play-order"), rolled)
    for app in (a, b, c):
        expect(app.page.locator("#dlg-play-order")).to_be_visible(timeout=SEEN_WITHIN_MS)
        app.page.click("#btn-order-close")

    # moving seat 3's player to the free seat 4, then freeing seat 4
    asked(
        a,
        b,
        "moveSeat",
        "Move Player 3 to seat 4?",
        menu(a, 3, '#pm-move-row [data-to="4"]'),
        lambda s: player(s, 4)["claimedBy"] is not None and player(s, 3)["claimedBy"] is None,
    )
    expect(c.card(4)).to_have_attribute("data-seat", "mine", timeout=SEEN_WITHIN_MS)
    assert c.stored_games()[code]["seat"]["playerId"] == 4
    asked(a, b, "freeSeat", "Free seat 4?", menu(a, 4, "#pm-free"), lambda s: player(s, 4)["claimedBy"] is None)
    expect(c.page.locator("#watching")).to_be_visible(timeout=SEEN_WITHIN_MS)
    assert "seat" not in c.stored_games()[code]
    c.claim(3)
    seen(b, lambda s: player(s, 3)["claimedBy"] is not None)

    # the host takes back three of seat 2's life changes at once, once told how many go
    a.start()
    minus = b.page.get_by_role("button", name="Decrease life of player 2", exact=True)
    for life in (19, 18, 17):
        minus.click()
        expect(a.card(2).locator(".stat-life .stat-value")).to_have_text(str(life), timeout=SEEN_WITHIN_MS)

    def undo_three() -> None:
        a.page.click("#btn-more")
        a.page.click("#btn-history")
        a.page.locator("#dlg-history").get_by_role("button", name="Undo back to here (3)").click()

    after = asked(
        a, b, "undo", "Undo the last 3 actions?", undo_three, lambda s: player(s, 2)["life"] == 20, under="#dlg-history"
    )
    assert sent(a, "undo")[-1] == {"count": 3}
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("20")
    a.page.locator("#dlg-history").get_by_role("button", name="Close").click()
    assert after["status"] == "running"

    # a kick takes the player out and the device off its seat
    asked(
        a,
        b,
        "adminKick",
        "Kick Player 3?",
        menu(a, 3, "#pm-kick"),
        lambda s: player(s, 3)["eliminatedReason"] == "kicked",
    )
    expect(c.page.locator("#watching")).to_be_visible(timeout=SEEN_WITHIN_MS)

    # a reset starts the game over
    def reset() -> None:
        a.page.click("#btn-reset")

    asked(
        a, b, "reset", "Reset the game?", reset, lambda s: s["status"] == "waiting" and not player(s, 3)["isEliminated"]
    )

    # the host role goes to seat 2
    asked(a, b, "transferHost", "Make Player 2 the host?", menu(a, 2, "#pm-host"), lambda s: s.get("hostSeat") == 2)
    expect(b.page.locator("#host-controls")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(a.page.locator("#host-controls")).to_be_hidden()

    # the new host deletes the game: cancelled, every device plays on; confirmed, all go home
    b.page.click("#btn-more")
    b.page.click("#btn-end-game")
    expect(b.page.locator("#confirm-title")).to_have_text(f"Delete game {code}?")
    b.page.click("#dlg-confirm [data-close]")
    round_trip(b)
    assert sent(b, "endGame") == []
    for app in (a, b, c):
        expect(app.page.locator("#game")).to_be_visible()
    b.page.click("#btn-more")
    b.page.click("#btn-end-game")
    b.page.click("#confirm-ok")
    for app in (a, b, c):
        expect(app.page.locator("#home")).to_be_visible(timeout=SEEN_WITHIN_MS)
    assert len(sent(b, "endGame")) == 1


def test_forgetting_a_recent_game_that_holds_a_seat_or_the_host_role_asks_first(open_app: OpenApp) -> None:
    (a, b), code = seated(open_app, 2, 2)
    watcher = open_app(f"/?game={code}")
    expect(watcher.page.locator("#watching")).to_be_visible()
    a.start()
    for app in (a, watcher):
        app.page.click("#btn-leave")
        if app is a:
            a.page.click("#confirm-ok")
        expect(app.page.locator("#home")).to_be_visible()
    item = a.page.locator("#recent-list .recent-item")
    expect(item).to_have_count(1)
    expect(item.locator(".recent-meta")).to_contain_text("Host · Seat 1")
    forget = a.page.get_by_role("button", name=f"Forget game {code}")

    # cancelled: the entry and its tokens stay, and they still take the seat and the role back
    forget.click()
    expect(a.page.locator("#confirm-title")).to_have_text(f"Forget game {code}?")
    expect(a.page.locator("#confirm-message")).to_have_text(
        "This device holds seat 1 and the host role in that game, and only the token saved here can take them back."
    )
    a.page.click("#dlg-confirm [data-close]")
    expect(item).to_have_count(1)
    kept = a.stored_games()[code]
    assert kept["seat"]["playerId"] == 1 and kept["hostToken"]
    a.page.get_by_role("button", name=f"Rejoin game {code}").click()
    expect(a.card(1)).to_have_attribute("data-seat", "mine")
    expect(a.page.locator("#host-controls")).to_be_visible()
    a.page.click("#btn-leave")
    a.page.click("#confirm-ok")
    expect(a.page.locator("#home")).to_be_visible()

    # confirmed: gone from the list and from this device
    forget.click()
    a.page.click("#confirm-ok")
    expect(a.page.locator("#recent")).to_be_hidden()
    assert code not in a.stored_games()
    # and B's seat is untouched by A's device forgetting its own
    expect(b.card(2)).to_have_attribute("data-seat", "mine")

    # a game this device only watched holds nothing: forgotten at once
    expect(watcher.page.locator("#recent-list .recent-meta")).to_contain_text("Watching")
    watcher.page.get_by_role("button", name=f"Forget game {code}").click()
    expect(watcher.page.locator("#dlg-confirm")).to_be_hidden()
    expect(watcher.page.locator("#recent")).to_be_hidden()
    assert code not in watcher.stored_games()
