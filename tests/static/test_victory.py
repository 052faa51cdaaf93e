"""The victory overlay (js/victory.js with js/summary.js), several browser contexts on a real
service: at a game's end every device lifts the end-of-game summary (the winner, time used
and turns) over the board; dismissed, it is the summary above the board again; a reload of a
finished game shows it again; a two-headed giant team wins together, and a game nobody won
says so."""

from __future__ import annotations

import copy
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
ELIMINATED = re.compile(r"\beliminated\b")


def eliminate(app: App, player: int) -> None:
    app.card(player).locator(".host-menu").click()
    app.page.click("#pm-eliminate")
    app.page.click("#confirm-ok")


def in_overlay(app: App) -> bool:
    return bool(app.page.evaluate("document.querySelector('#dlg-victory #game-summary') !== null"))


def test_every_device_sees_the_winner_over_the_board_until_dismissed(open_app: OpenApp) -> None:
    (a, b), code = seated(open_app, 3, 2)
    a.start()
    eliminate(a, 3)
    expect(b.card(3)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#dlg-victory")).to_be_hidden()
    eliminate(a, 2)
    done = [f["data"] for f in b.received if f.get("type") == "gameComplete"]
    for app in (a, b):
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#summary-title")).to_have_text("Player 1 wins")
        assert in_overlay(app)
        expect(app.page.locator("#game-summary")).to_have_attribute("data-winner", "1")
        rows = app.page.locator("#dlg-victory .summary-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.locator(".summary-out")).to_have_text(["winner", "the host", "the host"])
    done = [f["data"] for f in b.received if f.get("type") == "gameComplete"]
    assert len(done) == 1 and done[0]["winnerId"] == 1 and done[0]["winnerName"] == "Player 1"
    turns = {r["playerId"]: str(r["turns"]) for r in done[0]["summary"]}
    expect(b.page.locator("#dlg-victory .summary-turns")).to_have_text([turns[1], turns[2], turns[3]])
    audit(b.page, "victory overlay")
    assert no_sideways_scroll(b.page)

    # it does not block the table: the host's reset is still there (and still asks)
    a.page.click("#btn-reset")
    expect(a.page.locator("#dlg-confirm")).to_be_visible()
    a.page.click("#dlg-confirm [data-close]")
    assert "reset" not in a.sent_types()

    # dismissed: the same summary, above the board
    b.page.click("#btn-victory-close")
    expect(b.page.locator("#dlg-victory")).to_be_hidden()
    expect(b.page.locator("#game-summary")).to_be_visible()
    assert not in_overlay(b)
    assert b.page.locator("#game-summary").count() == 1
    expect(b.page.locator("#summary-title")).to_have_text("Player 1 wins")
    # a later state does not bring it back; a reload of the finished game does
    a.page.get_by_role("button", name="Decrease life of player 1").click()
    expect(b.card(1).locator(".stat-life .stat-value")).to_have_text("19", timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#dlg-victory")).to_be_hidden()
    b.reload()
    expect(b.page.locator("#dlg-victory")).to_be_visible()
    expect(b.page.locator("#summary-title")).to_have_text("Player 1 wins")
    expect(b.page.locator('#dlg-victory tr[data-player="1"] .summary-turns')).to_have_text(turns[1])

    # a reset takes it away on every device
    a.page.click("#btn-reset")
    a.page.click("#confirm-ok")
    for app in (a, b):
        expect(app.page.locator("#game")).to_have_attribute("data-status", "waiting", timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#dlg-victory")).to_be_hidden()
        expect(app.page.locator("#game-summary")).to_be_hidden()
    assert code


def test_a_team_wins_together_and_a_game_without_a_winner_says_so(open_app: OpenApp) -> None:
    a = open_app(width=320, height=640, wire=True)
    a.fill_create_form(players=4)
    a.page.click("#rules-create > summary")
    a.page.select_option("#f-rules-format", "twoHeadedGiant")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(4)
    a.start()
    eliminate(a, 4)
    expect(a.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(a.page.locator("#summary-title")).to_have_text("Player 1 and Player 2 win")
    # (a page behind a Wire records each frame twice: from the socket and from the Wire)
    done = [f["data"] for f in a.received if f.get("type") == "gameComplete"][-1]
    assert done["winnerTeam"] == [1, 2] and done["winnerId"] == 1
    expect(a.page.locator("#dlg-victory .summary-out")).to_have_text(["winner", "winner", "the host", "the host"])
    # on the smallest phone: whole, readable, nothing sideways
    box = a.page.locator("#dlg-victory").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert box["y"] + box["height"] <= 640
    audit(a.page, "victory overlay at 320 px")
    assert no_sideways_scroll(a.page)
    a.page.click("#btn-victory-close")

    # nobody left: the service's frames for such an end, as it sends them
    a.page.click("#btn-reset")
    a.page.click("#confirm-ok")
    expect(a.page.locator("#game")).to_have_attribute("data-status", "waiting")
    st: dict[str, Any] = copy.deepcopy([f["data"] for f in a.received if f.get("type") == "state"][-1])
    st.update(status="finished", winner=None, version=st["version"] + 1)
    for p in st["players"]:
        p.update(isEliminated=True, eliminatedReason="timeout")
    summary = [{"playerId": p["id"], "timeUsed": 0, "turns": 0} for p in st["players"]]
    assert a.wire is not None
    a.wire.inject({"type": "gameComplete", "data": {"winnerId": None, "winnerName": None, "summary": summary}})
    a.wire.inject({"type": "state", "data": st})
    expect(a.page.locator("#dlg-victory")).to_be_visible()
    expect(a.page.locator("#summary-title")).to_have_text("Game over: no winner")
    expect(a.page.locator("#game-summary")).to_have_attribute("data-winner", "")
    expect(a.page.locator("#dlg-victory .summary-out")).to_have_text(["timeout"] * 4)
