"""HEAD's turn systems in the players' hands (js/turns.js, js/clock.js runningIds): the
interrupt stack (Interrupt, Pass priority, the PRIORITY badge and the others on the stack),
targeting (Target mode, picking and dropping, Confirm, the targets' Pass, Cancel), the
clocks that run meanwhile (several at once), and the turn pass held back while either holds
the turn, each with several browser contexts as the players on a real service."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit_on_a_phone
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000
RUNNING = re.compile(r"\brunning\b")
#: how long two clock samples are apart, and how far a running clock's step may be off it
GAP_MS = 400
SLACK_MS = 150


def three_seated(open_app: OpenApp) -> tuple[App, App, App]:
    (a, b, c), _ = seated(open_app, 3, 3)
    a.start()
    return a, b, c


def latest_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    return max(states, key=lambda s: int(s["version"]))


def wait_state(app: App, check: Any, timeout_ms: int = 3_000) -> dict[str, Any]:
    """The newest state this page received once `check(state)` holds for it."""
    waited = 0
    while True:
        st = latest_state(app)
        if check(st):
            return st
        if waited > timeout_ms:
            raise AssertionError(f"state never matched; last: {st}")
        app.page.wait_for_timeout(25)
        waited += 25


def running_clocks(app: App, players: int) -> set[int]:
    """The players whose rendered clocks moved between two samples GAP_MS apart (and each
    that moved moved by the time that passed), and that the others did not move at all."""
    first = {p: app.sample_clock(p) for p in range(1, players + 1)}
    app.page.wait_for_timeout(GAP_MS)
    second = {p: app.sample_clock(p) for p in range(1, players + 1)}
    moving = set()
    for p in first:
        (t0, ms0), (t1, ms1) = first[p], second[p]
        if ms0 == ms1:
            continue
        assert abs((ms0 - ms1) - (t1 - t0)) < SLACK_MS, (p, ms0, ms1, t1 - t0)
        moving.add(p)
    return moving


def test_remaining_at_runs_the_stack_top_else_every_responding_target_else_the_active_player(open_app: OpenApp) -> None:
    a = open_app()
    got = a.page.evaluate(
        """async () => {
          const { remainingAt, runningIds } = await import('/static/js/clock.js');
          const players = [1, 2, 3, 4].map((id) => ({ id, timeRemaining: 10000, isEliminated: id === 4 }));
          const base = { status: 'running', serverTime: 1000, activePlayer: 1, players,
                         interruptingPlayers: [], targetingState: 'none', awaitingPriority: [] };
          const at = (st) => players.map((p) => remainingAt(st, p, 3500));
          return {
            active: at(base),
            stack: at({ ...base, interruptingPlayers: [2, 3] }),
            targets: at({ ...base, targetingState: 'resolving', awaitingPriority: [2, 3, 4] }),
            stackWins: at({ ...base, interruptingPlayers: [1], targetingState: 'resolving',
                            awaitingPriority: [2, 3] }),
            resolvedNobody: at({ ...base, targetingState: 'resolving', awaitingPriority: [] }),
            selecting: at({ ...base, targetingState: 'selecting', awaitingPriority: [] }),
            paused: at({ ...base, status: 'paused', interruptingPlayers: [2] }),
            eliminatedTop: [...runningIds({ ...base, interruptingPlayers: [2, 4] })],
          };
        }"""
    )
    assert got == {
        "active": [7500, 10000, 10000, 10000],
        "stack": [10000, 10000, 7500, 10000],
        "targets": [10000, 7500, 7500, 10000],
        "stackWins": [7500, 10000, 10000, 10000],
        "resolvedNobody": [7500, 10000, 10000, 10000],
        "selecting": [7500, 10000, 10000, 10000],
        "paused": [10000, 10000, 10000, 10000],
        "eliminatedTop": [],
    }


def test_interrupts_stack_priority_runs_the_top_clock_holds_the_turn_and_unwinds(open_app: OpenApp) -> None:
    a, b, c = three_seated(open_app)
    # the active player holds priority already: their Interrupt only answers someone's
    expect(a.page.locator("#btn-interrupt")).to_be_hidden()
    for app in (b, c):
        expect(app.page.locator("#btn-interrupt")).to_be_visible()
    for app in (a, b, c):
        expect(app.page.locator("#btn-pass-priority")).to_be_hidden()
    assert running_clocks(c, 3) == {1}
    expect(a.page.locator("#btn-pass")).to_be_enabled()

    b.page.click("#btn-interrupt")
    assert b.wait_sent("interrupt")["data"] == {}
    for app in (a, b, c):
        expect(app.card(2).locator(".mark-priority")).to_have_text("Priority", timeout=SEEN_WITHIN_MS)
        expect(app.card(2)).to_have_class(RUNNING)
        expect(app.card(1)).not_to_have_class(RUNNING)
        expect(app.card(1).locator(".mark-priority")).to_be_hidden()
    assert latest_state(c)["interruptingPlayers"] == [2]
    expect(a.page.locator("#btn-interrupt")).to_be_visible()
    assert running_clocks(c, 3) == {2}
    assert running_clocks(a, 3) == {2}
    # the turn waits for the stack: the pass is not offered, and the page says why
    why = "Player 2 holds priority: the turn can pass once everyone who interrupted has passed priority."
    for app in (a, b, c):
        expect(app.page.locator("#btn-pass")).to_be_hidden()
    expect(a.page.locator("#turn-note")).to_have_text(why)
    expect(a.card(1).locator(".pass-btn")).to_be_hidden()
    a.page.keyboard.press("Space")
    expect(a.page.locator("#game-error")).to_have_text(why)
    expect(b.page.locator("#btn-pass-priority")).to_be_visible()
    # who holds priority is not offered Interrupt again
    expect(b.page.locator("#btn-interrupt")).to_be_hidden()
    expect(b.page.locator("#status-hint")).to_have_text("You hold priority: Pass priority when you are done.")
    expect(a.page.locator("#btn-pass-priority")).to_be_hidden()

    c.page.click("#btn-interrupt")
    for app in (a, b, c):
        expect(app.card(3).locator(".mark-priority")).to_have_text("Priority", timeout=SEEN_WITHIN_MS)
        expect(app.card(2).locator(".mark-priority")).to_be_hidden()
        expect(app.card(2).locator(".mark-stack")).to_have_text("Stack 1 of 2")
    assert latest_state(a)["interruptingPlayers"] == [2, 3]
    assert running_clocks(a, 3) == {3}
    # on a phone too: contrast, 44 px targets, labels, no sideways scrolling
    for app in (a, b):
        audit_on_a_phone(app.page, "interrupt stack")

    c.page.click("#btn-pass-priority")
    for app in (a, b, c):
        expect(app.card(2).locator(".mark-priority")).to_have_text("Priority", timeout=SEEN_WITHIN_MS)
        expect(app.card(3).locator(".turn-marks")).to_be_hidden()
    expect(c.page.locator("#btn-pass-priority")).to_be_hidden()
    assert running_clocks(b, 3) == {2}
    b.page.click("#btn-pass-priority")
    for app in (a, b, c):
        expect(app.card(2).locator(".turn-marks")).to_be_hidden(timeout=SEEN_WITHIN_MS)
        expect(app.card(1)).to_have_class(RUNNING)
    assert latest_state(b)["interruptingPlayers"] == []
    assert running_clocks(b, 3) == {1}
    expect(a.page.locator("#btn-pass")).to_be_enabled()
    expect(a.page.locator("#turn-note")).to_be_hidden()
    # nothing tried to pass the turn while the stack held it
    assert "passTurn" not in a.sent_types()
    assert [t for t in b.sent_types() if t in ("interrupt", "passPriority")] == ["interrupt", "passPriority"]
    assert [t for t in c.sent_types() if t in ("interrupt", "passPriority")] == ["interrupt", "passPriority"]
    a.page.click("#btn-pass")
    expect(b.card(2)).to_have_class(RUNNING, timeout=SEEN_WITHIN_MS)


def test_targeting_picks_confirms_runs_every_targets_clock_until_each_passes_and_cancels(open_app: OpenApp) -> None:
    a, b, c = three_seated(open_app)
    for app in (b, c):
        expect(app.page.locator("#btn-target")).to_be_hidden()
    a.page.click("#btn-target")
    expect(a.page.locator("#btn-target")).to_have_attribute("aria-pressed", "true")
    expect(a.card(1).locator(".target-btn")).to_be_hidden()
    expect(a.card(2).locator(".target-btn")).to_have_text("Target")
    # a tap on a card itself (its clock) still does nothing
    a.clock(2).click()
    a.page.wait_for_timeout(200)
    assert [t for t in a.sent_types() if t in ("toggleTarget", "switch", "passTurn")] == []

    a.card(2).locator(".target-btn").click()
    for app in (a, b, c):
        expect(app.card(2).locator(".mark-target")).to_have_text("Targeted", timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#turn-note")).to_have_text("Player 1 is picking targets: Player 2.")
    a.card(3).locator(".target-btn").click()
    expect(a.card(3).locator(".target-btn")).to_have_attribute("aria-pressed", "true", timeout=SEEN_WITHIN_MS)
    a.card(3).locator(".target-btn").click()
    expect(c.card(3).locator(".mark-target")).to_be_hidden(timeout=SEEN_WITHIN_MS)
    assert latest_state(c)["targetedPlayers"] == [2]
    a.card(3).locator(".target-btn").click()
    expect(a.page.locator("#btn-confirm-targets")).to_have_text("Confirm 2 targets", timeout=SEEN_WITHIN_MS)
    audit_on_a_phone(a.page, "picking targets")
    toggles = [f["data"] for f in a.sent if f.get("type") == "toggleTarget"]
    assert toggles == [{"playerId": 2}, {"playerId": 3}, {"playerId": 3}, {"playerId": 3}]
    assert any(f.get("type") == "targetingUpdated" for f in b.received)
    # picking keeps the active player's clock running
    assert running_clocks(b, 3) == {1}

    a.page.click("#btn-confirm-targets")
    for app in (a, b, c):
        expect(app.card(2).locator(".mark-target")).to_have_text("Responding", timeout=SEEN_WITHIN_MS)
        expect(app.card(3).locator(".mark-target")).to_have_text("Responding")
        expect(app.card(1).locator(".mark-target")).to_have_text("Targeting")
        expect(app.card(2)).to_have_class(RUNNING)
        expect(app.card(3)).to_have_class(RUNNING)
        expect(app.card(1)).not_to_have_class(RUNNING)
    st = latest_state(a)
    assert (st["targetingState"], st["awaitingPriority"], st["originalActivePlayer"]) == ("resolving", [2, 3], 1)
    started = [f["data"] for f in c.received if f.get("type") == "targetingStarted"]
    assert [(d["originalPlayer"], d["targets"]) for d in started] == [(1, [2, 3])]
    expect(c.page.locator("#notice-text")).to_have_text("Player 1 targets Player 2 and Player 3: respond, then pass")
    assert running_clocks(a, 3) == {2, 3}
    assert running_clocks(b, 3) == {2, 3}
    expect(a.page.locator("#btn-pass")).to_be_hidden()
    expect(a.page.locator("#turn-note")).to_have_text(
        "Waiting for the targets to respond (Player 2 and Player 3): the turn can pass once they have passed."
    )
    expect(a.page.locator("#btn-target")).to_be_hidden()
    expect(a.page.locator("#btn-cancel-targets")).to_be_visible()
    for app in (b, c):
        expect(app.page.locator("#btn-respond")).to_be_visible()
        expect(app.page.locator("#status-hint")).to_have_text("You are targeted: Pass (respond) when you are done.")
    expect(a.page.locator("#btn-respond")).to_be_hidden()
    for app in (a, b):
        audit_on_a_phone(app.page, "targets responding")

    b.page.click("#btn-respond")
    for app in (a, b, c):
        expect(app.card(2).locator(".mark-target")).to_have_text("Passed", timeout=SEEN_WITHIN_MS)
    passed = wait_state(c, lambda s: s["awaitingPriority"] == [3])
    assert passed["targetingState"] == "resolving"
    assert [f["data"]["passedBy"] for f in c.received if f.get("type") == "priorityPassed"] == [2]
    expect(b.page.locator("#btn-respond")).to_be_hidden()
    assert running_clocks(c, 3) == {3}

    c.page.click("#btn-respond")
    for app in (a, b, c):
        expect(app.card(1)).to_have_class(RUNNING, timeout=SEEN_WITHIN_MS)
        for p in (1, 2, 3):
            expect(app.card(p).locator(".turn-marks")).to_be_hidden()
    assert [f["data"] for f in b.received if f.get("type") == "targetingComplete"] == [{"activePlayer": 1}]
    expect(b.page.locator("#notice-text")).to_have_text("Targets resolved: Player 1's turn again")
    assert running_clocks(c, 3) == {1}
    expect(a.page.locator("#btn-pass")).to_be_enabled()

    # a new selection, then cancelled: everyone is told, the turn stays the active player's
    a.page.click("#btn-target")
    a.card(3).locator(".target-btn").click()
    expect(b.card(3).locator(".mark-target")).to_have_text("Targeted", timeout=SEEN_WITHIN_MS)
    a.page.click("#btn-cancel-targets")
    for app in (a, b, c):
        expect(app.card(3).locator(".turn-marks")).to_be_hidden(timeout=SEEN_WITHIN_MS)
    assert [f["data"] for f in c.received if f.get("type") == "targetingCanceled"] == [{"activePlayer": 1}]
    st = wait_state(b, lambda s: s["targetingState"] == "none")
    assert (st["targetedPlayers"], st["activePlayer"]) == ([], 1)
    expect(a.card(3).locator(".target-btn")).to_be_hidden()
    expect(a.page.locator("#btn-target")).to_have_attribute("aria-pressed", "false")
    assert [t for t in a.sent_types() if t in ("confirmTargets", "cancelTargeting", "passTurn")] == [
        "confirmTargets",
        "cancelTargeting",
    ]
