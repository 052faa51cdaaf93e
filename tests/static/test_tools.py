"""The table's tools (js/tools.js), several browser contexts on a real service: dice and the
coin from the More menu, seen by every player as the server rolled them; the host's play-order
roll (asked first; the overlay of every player's rolls and the new order, the cards
reordered) and random start player, announced to everyone, which the host can undo from its
toast."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit, no_sideways_scroll
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000


def frames(app: App, mtype: str) -> list[dict[str, Any]]:
    return [f["data"] for f in app.received if f.get("type") == mtype]


def wait_frames(app: App, mtype: str, count: int) -> list[dict[str, Any]]:
    deadline = 50
    while len(frames(app, mtype)) < count and deadline > 0:
        app.page.wait_for_timeout(20)
        deadline -= 1
    found = frames(app, mtype)
    assert len(found) == count, (mtype, found)
    return found


def roll(app: App, button: str) -> None:
    app.page.click("#btn-more")
    app.page.locator("#dice-row").get_by_role("button", name=button, exact=True).click()


def card_order(app: App) -> list[int]:
    return [int(n) for n in app.page.eval_on_selector_all("#board > .card", "cs => cs.map((c) => c.dataset.player)")]


def test_dice_and_coin_reach_every_player_as_the_server_rolled_them(open_app: OpenApp) -> None:
    (a, b, c), code = seated(open_app, 3, 3)
    watcher = open_app(f"/?game={code}")
    expect(watcher.cards()).to_have_count(3)
    apps = [a, b, c, watcher]

    # a d20 from seat 2: everyone sees the number the server sent them, within 1..20
    roll(b, "Roll a d20")
    assert b.wait_sent("rollDice")["data"] == {"sides": 20}
    for app in apps:
        (d,) = wait_frames(app, "diceRolled", 1)
        assert d["playerName"] == "Player 2" and d["sides"] == 20 and 1 <= d["result"] <= 20
        toast = app.page.locator("#tools-toast")
        expect(toast).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(toast).to_have_attribute("data-result", str(d["result"]))
        expect(toast.locator(".toast-title")).to_have_text("Player 2 rolled a d20: ")
        expect(toast.locator(".toast-value")).to_have_text(str(d["result"]))
        expect(app.page.locator("#announcer")).to_have_text(f"Player 2 rolled a d20: {d['result']}.")
    audit(a.page, "dice toast")

    # the coin from seat 3: heads is 1, tails 2
    roll(c, "Flip a coin")
    for app in apps:
        d = wait_frames(app, "diceRolled", 2)[1]
        assert d["sides"] == 2 and d["result"] in (1, 2)
        face = "Heads" if d["result"] == 1 else "Tails"
        expect(app.page.locator("#tools-toast .toast-title")).to_have_text("Player 3 flipped a coin: ")
        expect(app.page.locator("#tools-toast .toast-value")).to_have_text(face)

    # any other die: a typed number of sides, checked in the page first
    a.page.click("#btn-more")
    a.page.click("#btn-dice-other")
    expect(a.page.locator("#dlg-dice")).to_be_visible()
    a.page.fill("#dice-sides", "1000")
    a.page.click("#dlg-dice button[type=submit]")
    expect(a.page.locator("#dice-error")).to_have_text("Sides: a whole number from 2 to 999.")
    assert [f["data"]["sides"] for f in a.sent if f.get("type") == "rollDice"] == []
    a.page.fill("#dice-sides", "100")
    a.page.click("#dlg-dice button[type=submit]")
    expect(a.page.locator("#dlg-dice")).to_be_hidden()
    for app in apps:
        d = wait_frames(app, "diceRolled", 3)[2]
        assert d["sides"] == 100 and 1 <= d["result"] <= 100 and d["playerName"] == "Player 1"
        expect(app.page.locator("#tools-toast")).to_have_attribute("data-result", str(d["result"]))
        expect(app.page.locator("#tools-toast .toast-title")).to_have_text("Player 1 rolled a d100: ")
    a.page.click("#btn-toast-close")
    expect(a.page.locator("#tools-toast")).to_be_hidden()

    # a spectator watches the dice but has none, and only the host orders the seats
    watcher.page.click("#btn-more")
    expect(watcher.page.locator("#dice-row")).to_be_hidden()
    expect(watcher.page.locator("#btn-play-order")).to_be_hidden()
    b.page.click("#btn-more")
    expect(b.page.locator("#btn-play-order")).to_be_hidden()
    expect(b.page.locator("#btn-random-start")).to_be_hidden()


def test_the_host_rolls_the_play_order_and_picks_a_random_start_for_everyone(open_app: OpenApp) -> None:
    (a, b, c), _ = seated(open_app, 4, 3)
    b.page.set_viewport_size({"width": 320, "height": 640})
    apps = [a, b, c]
    # the roll replaces the seats' order for good: asked first
    a.page.click("#btn-more")
    a.page.click("#btn-play-order")
    expect(a.page.locator("#confirm-title")).to_have_text("Roll for play order?")
    a.page.click("#confirm-ok")
    for app in apps:
        (d,) = wait_frames(app, "playOrderRolled", 1)
        order = d["newOrder"]
        # the three seated players roll; the free seat 4 follows them
        assert sorted(order) == [1, 2, 3]
        dialog = app.page.locator("#dlg-play-order")
        expect(dialog).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(dialog).to_have_attribute("data-order", ",".join(map(str, order)))
        names = ", ".join(f"Player {pid}" for pid in order)
        expect(app.page.locator("#order-line")).to_contain_text(f"New order: {names}. Player {order[0]} starts.")
        rows = app.page.locator("#order-table tbody tr")
        expect(rows).to_have_count(3)
        rounds = max(len(r["rolls"]) for r in d["rolls"])
        for i, r in enumerate(d["rolls"]):
            row = rows.nth(i)
            expect(row).to_have_attribute("data-player", str(r["playerId"]))
            expect(row.locator(".order-pos")).to_have_text(str(r["position"]))
            shown = [str(v) for v in r["rolls"]] + [""] * (rounds - len(r["rolls"]))
            expect(row.locator(".order-roll")).to_have_text(shown)
            assert all(1 <= v <= 20 for v in r["rolls"])
        # the cards follow the new turn order
        expect(app.card(order[0])).to_have_class(re.compile(r"\bactive\b"))
        assert card_order(app) == [*order, 4]
    audit(b.page, "play order overlay at 320 px")
    assert no_sideways_scroll(b.page)
    for app in apps:
        app.page.click("#btn-order-close")
        expect(app.page.locator("#dlg-play-order")).to_be_hidden()

    # a random start announces its draw to everyone; the host who drew it can take it back
    # from the toast (a draw of the start player there was already changes nothing to undo)
    before = order[0]
    for drawn in range(1, 31):
        a.page.click("#btn-more")
        a.page.click("#btn-random-start")
        for app in apps:
            d = wait_frames(app, "randomPlayerSelected", drawn)[-1]
            assert d["playerId"] in (1, 2, 3) and d["playerName"] == f"Player {d['playerId']}"
            expect(app.page.locator("#tools-toast")).to_have_attribute("data-player", str(d["playerId"]))
            expect(app.page.locator("#tools-toast .toast-value")).to_have_text(f"Player {d['playerId']} starts")
            expect(app.page.locator("#announcer")).to_have_text(f"Random start player: Player {d['playerId']} starts.")
            expect(app.card(d["playerId"])).to_have_class(re.compile(r"\bactive\b"))
        for app in (b, c):
            expect(app.page.locator("#btn-start-undo")).to_be_hidden()
        if d["playerId"] != before:
            break
        expect(a.page.locator("#btn-start-undo")).to_be_hidden()
    drew = d["playerId"]
    assert drew != before
    expect(a.page.locator("#btn-start-undo")).to_be_visible()
    audit(a.page, "random start toast with its undo")
    a.page.click("#btn-start-undo")
    expect(a.page.locator("#tools-toast")).to_be_hidden()
    assert a.wait_sent("switch")["data"] == {"playerId": before}
    for app in apps:
        expect(app.card(before)).to_have_class(re.compile(r"\bactive\b"), timeout=SEEN_WITHIN_MS)
        expect(app.card(drew)).not_to_have_class(re.compile(r"\bactive\b"))
    newest = frames(b, "state")[-1]
    assert newest["activePlayer"] == before and newest["status"] == "waiting"
    # once started, the seats are no longer the host's to order
    a.start()
    a.page.click("#btn-more")
    expect(a.page.locator("#btn-play-order")).to_be_hidden()
    expect(a.page.locator("#btn-random-start")).to_be_hidden()
    expect(a.page.locator("#dice-row")).to_be_visible()
