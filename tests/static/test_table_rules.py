"""The table's rules (issue 13) in the players' hands, several browser contexts on a real
service: the create form's format, loss rules, time control and undo window and the host's
rules dialog; poison, energy, experience and commander damage on the cards, the loss reason,
the turn and round counters and the end-of-game summary; history and undo (the toast after
one's own action, the host's undo, the `undone` notice); concede, and from each seat's menu
seat moves, a freed seat and host handover; taking the host role from an absent host."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit, no_sideways_scroll
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000
ACTIVE = re.compile(r"\bactive\b")
ELIMINATED = re.compile(r"\beliminated\b")


def seated(open_app: OpenApp, players: int, seats: int, **rules: str) -> tuple[list[App], str]:
    """The host (first app) creates a game with `rules` ({field id suffix: value}) and takes
    seat 1; one more app per seat up to `seats` opens the link and takes its seat."""
    host = open_app()
    host.fill_create_form(players=players)
    if rules:
        host.page.click("#rules-create > summary")
        for suffix, value in rules.items():
            node = host.page.locator(f"#f-rules-{suffix}")
            if node.evaluate("n => n.tagName") == "SELECT":
                node.select_option(value)
            else:
                node.fill(value)
    host.page.click("#create-submit")
    expect(host.cards()).to_have_count(players)
    code = host.page.inner_text("#game-code")
    host.claim(1)
    apps = [host]
    for seat in range(2, seats + 1):
        other = open_app(f"/?game={code}")
        expect(other.page.locator("#game-code")).to_have_text(code)
        other.claim(seat)
        apps.append(other)
    return apps, code


def life(app: App, player: int) -> str:
    return app.card(player).locator(".stat-life .stat-value").inner_text()


def test_the_create_form_sends_format_loss_rules_time_control_and_undo_window_and_the_host_changes_them_while_waiting(
    open_app: OpenApp,
) -> None:
    a = open_app()
    a.fill_create_form(players=3)
    a.page.click("#rules-create > summary")
    a.page.select_option("#f-rules-format", "twoHeadedGiant")
    expect(a.page.locator("#f-rules-life")).to_have_value("30")
    a.page.click("#create-submit")
    expect(a.page.locator("#f-rules-format-error")).to_have_text("Two-headed giant needs 4, 6 or 8 players.")
    assert "create" not in a.sent_types()

    a.page.select_option("#f-rules-format", "commander")
    expect(a.page.locator("#f-rules-life")).to_have_value("40")
    expect(a.page.locator("#f-rules-loss-commanderDamage")).to_be_checked()
    a.page.uncheck("#f-rules-loss-poison")
    a.page.select_option("#f-rules-control", "turnCap")
    expect(a.page.locator("#f-rules-amount")).to_be_visible()
    a.page.fill("#f-rules-amount", "2")
    a.page.fill("#f-rules-cap-warning", "30s")
    a.page.fill("#f-rules-undo", "45s")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(3)
    sent = a.wait_sent("create")["data"]["settings"]
    # only what differs from the server's defaults (commander's 40 life is the format's own)
    assert {
        k: v
        for k, v in sent.items()
        if k not in ("playerCount", "initialTime", "warningThresholds", "penaltyType", "penaltyTimeDeduction")
    } == {
        "format": "commander",
        "lossRules": {"life": True, "poison": False, "commanderDamage": True},
        "timeControl": "turnCap",
        "timeControlMs": 120_000,
        "turnCapWarningMs": 30_000,
        "undoWindow": 45_000,
    }
    expect(a.card(1).locator(".stat-life .stat-value")).to_have_text("40")
    expect(a.page.locator("#rules-line")).to_have_text("Commander · 40 life · Turn cap 2")
    # the commander grid has a row per opponent, with a partner column
    a.card(1).locator(".extras-toggle").click()
    expect(a.card(1).locator(".cmd-grid tbody tr")).to_have_count(2)
    expect(a.card(1).locator(".cmd-grid thead")).to_contain_text("Partner")

    # the host's rules dialog shows the game's rules and changes them while waiting
    a.page.click("#btn-more")
    a.page.click("#btn-rules")
    expect(a.page.locator("#r-rules-format")).to_have_value("commander")
    expect(a.page.locator("#r-rules-control")).to_have_value("turnCap")
    expect(a.page.locator("#r-rules-undo")).to_have_value("45s")
    a.page.select_option("#r-rules-format", "brawl")
    expect(a.page.locator("#r-rules-life")).to_have_value("25")
    a.page.fill("#r-rules-life", "30")
    a.page.select_option("#r-rules-control", "fischer")
    a.page.fill("#r-rules-amount", "5s")
    a.page.click("#dlg-rules button[type=submit]")
    expect(a.page.locator("#dlg-rules")).to_be_hidden()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("30", timeout=SEEN_WITHIN_MS)
    expect(a.page.locator("#rules-line")).to_have_text("Brawl · 30 life · Increment 5s")
    update = a.wait_sent("updateSettings")["data"]
    assert update["format"] == "brawl" and update["startingLife"] == 30
    assert update["timeControl"] == "fischer" and update["timeControlMs"] == 5_000

    # once started only the undo window and the host timeout can change
    a.claim(1)
    a.start()
    a.page.click("#btn-more")
    a.page.click("#btn-rules")
    expect(a.page.locator("#r-rules-format")).to_be_disabled()
    expect(a.page.locator("#r-rules-control")).to_be_disabled()
    a.page.fill("#r-rules-undo", "0")
    a.page.click("#dlg-rules button[type=submit]")
    expect(a.page.locator("#dlg-rules")).to_be_hidden()
    updates = [f["data"] for f in a.sent if f.get("type") == "updateSettings"]
    assert updates[-1] == {"undoWindow": 0}


def test_counters_commander_damage_turns_rounds_the_loss_reason_and_the_summary(open_app: OpenApp) -> None:
    (a, b), _ = seated(open_app, 2, 2, format="commander")
    a.start()
    expect(b.page.locator("#turn-round .hide-narrow")).to_have_text("Turn 1 · Round 1", timeout=SEEN_WITHIN_MS)
    a.page.click("#btn-pass")
    expect(b.page.locator("#turn-round .hide-narrow")).to_have_text("Turn 2 · Round 1", timeout=SEEN_WITHIN_MS)
    b.page.click("#btn-pass")
    expect(a.page.locator("#turn-round .hide-narrow")).to_have_text("Turn 3 · Round 2", timeout=SEEN_WITHIN_MS)

    # B's own counters; taps on them never pass the turn (it is A's)
    passes = [t for t in b.sent_types() if t in ("switch", "passTurn")]
    b.card(2).locator(".extras-toggle").click()
    for _ in range(3):
        b.page.get_by_role("button", name="Increase poison of player 2").click()
    b.page.get_by_role("button", name="Increase energy of player 2").click()
    for _ in range(2):
        b.page.get_by_role("button", name="Increase experience of player 2").click()
    expect(a.card(2).locator(".sum-poison .sum-value")).to_have_text("3", timeout=SEEN_WITHIN_MS)
    expect(a.card(2).locator(".sum-energy .sum-value")).to_have_text("1")
    expect(a.card(2).locator(".sum-experience .sum-value")).to_have_text("2")
    # nobody else's counters are B's to change
    expect(b.card(1).locator(".table-counters .step:visible")).to_have_count(0)

    # 21 from A's commander: B is out by commander damage, A wins
    hit = b.page.get_by_role("button", name="Increase commander damage to player 2 from Player 1", exact=True)
    for _ in range(20):
        hit.click()
    cell = a.card(2).locator('.cmd-cell[data-source="1"][data-partner="0"] .cmd-value')
    expect(cell).to_have_text("20", timeout=SEEN_WITHIN_MS)
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("20")
    b.page.get_by_role("button", name="Increase partner commander damage to player 2 from Player 1", exact=True).click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("19", timeout=SEEN_WITHIN_MS)
    expect(a.card(2)).not_to_have_class(ELIMINATED)
    hit.click()
    expect(a.card(2)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
    expect(a.card(2).locator(".out-reason")).to_have_text("Out: commander damage")
    assert [t for t in b.sent_types() if t in ("switch", "passTurn")] == passes
    sent = [f["data"] for f in b.sent if f.get("type") == "commanderDamage"]
    assert len(sent) == 22 and sent[0] == {"playerId": 2, "sourceId": 1, "partner": False, "amount": 1}

    # the victory screen: every player's time used and turns, from gameComplete's summary
    for app in (a, b):
        expect(app.page.locator("#game-summary")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#summary-title")).to_have_text("Player 1 wins")
        expect(app.page.locator('#game-summary tr[data-player="1"] .summary-turns')).to_have_text("2")
        expect(app.page.locator('#game-summary tr[data-player="2"] .summary-turns')).to_have_text("1")
        expect(app.page.locator('#game-summary tr[data-player="2"] .summary-out')).to_have_text("commander damage")
        expect(app.page.locator('#game-summary tr[data-player="1"] .summary-time')).to_have_text(re.compile(r"^0:0\d$"))
    assert any(f.get("type") == "gameComplete" and len(f["data"]["summary"]) == 2 for f in a.received)
    # after a reload the finished state's own counters fill the same table
    b.reload()
    expect(b.page.locator('#game-summary tr[data-player="1"] .summary-turns')).to_have_text("2")


def test_a_player_undoes_their_own_action_from_the_toast_and_the_host_from_the_history(open_app: OpenApp) -> None:
    (a, b), _ = seated(open_app, 2, 2)
    a.start()
    # the start cleared the undo stack: the host's menu offers no undo until there is one
    a.page.click("#btn-more")
    expect(a.page.locator("#btn-history")).to_be_visible()
    expect(a.page.locator("#menu-undo")).to_be_hidden()
    a.page.locator("#dlg-table").get_by_role("button", name="Close").click()
    a.page.click("#btn-pass")
    expect(b.card(2)).to_have_class(ACTIVE, timeout=SEEN_WITHIN_MS)
    a.page.click("#btn-more")
    expect(a.page.locator("#menu-undo")).to_be_visible()
    a.page.locator("#dlg-table").get_by_role("button", name="Close").click()

    b.page.get_by_role("button", name="Decrease life of player 2").click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("19", timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#undo-toast")).to_be_visible()
    expect(b.page.locator("#undo-toast .toast-text")).to_have_text("Player 2's life set to 19")
    b.page.click("#toast-undo")
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("20", timeout=SEEN_WITHIN_MS)
    for app in (a, b):
        expect(app.page.locator("#notice-text")).to_have_text("Player 2 undid the last action.")
    expect(b.page.locator("#undo-toast")).to_be_hidden()
    assert b.wait_sent("undo")["data"] == {}

    # enough entries for two pages of history
    up = b.page.get_by_role("button", name="Increase life of player 2")
    for _ in range(20):
        up.click()
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("40", timeout=2_000)

    a.page.click("#btn-more")
    a.page.click("#btn-history")
    entries = a.page.locator("#dlg-history .history-entry")
    expect(entries).to_have_count(20)
    expect(entries.first).to_contain_text("Player 2 changed a player")
    expect(entries.first).to_contain_text("Player 2 life 39 → 40")
    a.page.locator("#dlg-history").get_by_role("button", name="Older").click()
    expect(entries.nth(20)).to_be_visible()
    pages = [f["data"] for f in a.sent if f.get("type") == "history"]
    assert pages[0] == {"limit": 20} and isinstance(pages[1].get("before"), int)
    expect(a.page.locator("#dlg-history")).to_contain_text("undid")

    # the host takes back the last three of B's taps at once, once they confirm how many go
    back3 = a.page.locator("#dlg-history").get_by_role("button", name="Undo back to here (3)")
    back3.click()
    expect(a.page.locator("#confirm-title")).to_have_text("Undo the last 3 actions?")
    expect(a.page.locator("#confirm-message")).to_contain_text("before “Player 2 changed a player”")
    a.page.click("#dlg-confirm [data-close]")
    expect(a.page.locator("#dlg-history")).to_be_visible()
    back3.click()
    a.page.click("#confirm-ok")
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("37", timeout=SEEN_WITHIN_MS)
    expect(b.page.locator("#notice-text")).to_have_text("Player 1 (host) undid the last 3 actions.")
    assert [f["data"] for f in a.sent if f.get("type") == "undo"] == [{"count": 3}]
    a.page.click("#history-undo")
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("36", timeout=SEEN_WITHIN_MS)
    # and two taps away, from the table menu
    a.page.locator("#dlg-history").get_by_role("button", name="Close").click()
    a.page.click("#btn-more")
    a.page.click("#menu-undo")
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("35", timeout=SEEN_WITHIN_MS)
    # the player sees no undo for the host's actions
    b.page.click("#btn-more")
    b.page.click("#btn-history")
    expect(b.page.locator("#dlg-history .history-entry").first).to_be_visible()
    expect(b.page.locator("#history-undo")).to_be_hidden()
    expect(b.page.locator("#dlg-history button[data-count]")).to_have_count(0)
    # closed with a tap, the panel leaves no focus behind: Space passes the turn again
    b.page.locator("#dlg-history").get_by_role("button", name="Close").click()
    expect(b.page.locator("#dlg-history")).to_be_hidden()
    # (the dialogs' focus fixup ends within the browser's next task: wait for it, then press)
    expect(b.page.locator("dialog[open]")).to_have_count(0)
    b.page.wait_for_function("() => document.activeElement === document.body", timeout=SEEN_WITHIN_MS)
    b.page.keyboard.press("Space")
    expect(a.card(1)).to_have_class(ACTIVE, timeout=SEEN_WITHIN_MS)


def seat_menu(app: App, player: int) -> None:
    app.card(player).locator(".host-menu").click()
    expect(app.page.locator("#dlg-player")).to_be_visible()


def test_the_host_moves_and_frees_seats_and_hands_over_the_role_and_a_player_concedes(open_app: OpenApp) -> None:
    (a, b, c), code = seated(open_app, 4, 3)
    b.page.click("#btn-more")
    expect(b.page.locator("#btn-history")).to_be_visible()
    expect(b.page.locator("#btn-rules")).to_be_hidden()
    expect(b.page.locator("#menu-undo")).to_be_hidden()
    b.page.locator("#dlg-table").get_by_role("button", name="Close").click()
    expect(b.card(2).locator(".host-menu")).to_be_hidden()

    # the seat menu says whose seat it is and offers what the seat allows
    seat_menu(a, 1)
    expect(a.page.locator("#pm-seat")).to_have_text("Seat 1: your seat")
    expect(a.page.locator("#pm-host")).to_be_hidden()
    a.page.click("#dlg-player [data-close]")
    seat_menu(a, 4)
    expect(a.page.locator("#pm-seat")).to_have_text("Seat 4: free")
    for item in ("#pm-host", "#pm-free", "#pm-move-row"):
        expect(a.page.locator(item)).to_be_hidden()
    a.page.click("#dlg-player [data-close]")

    # move: the free seats are the menu's items, and the move is asked first
    seat_menu(a, 2)
    expect(a.page.locator("#pm-seat")).to_have_text("Seat 2: taken")
    expect(a.page.locator("#pm-move-row button")).to_have_text(["Seat 4"])
    a.page.get_by_role("button", name="Move Player 2 to seat 4 (Player 4)").click()
    expect(a.page.locator("#confirm-title")).to_have_text("Move Player 2 to seat 4?")
    a.page.click("#confirm-ok")
    expect(b.card(4)).to_have_attribute("data-seat", "mine", timeout=SEEN_WITHIN_MS)
    expect(b.card(2)).to_have_attribute("data-seat", "free")
    assert b.stored_games()[code]["seat"]["playerId"] == 4
    assert a.wait_sent("moveSeat")["data"] == {"fromPlayerId": 2, "toPlayerId": 4}

    seat_menu(a, 3)
    a.page.click("#pm-free")
    expect(a.page.locator("#confirm-title")).to_have_text("Free seat 3?")
    a.page.click("#confirm-ok")
    expect(c.card(3)).to_have_attribute("data-seat", "free", timeout=SEEN_WITHIN_MS)
    assert "seat" not in c.stored_games()[code]
    c.claim(3)

    seat_menu(a, 4)
    a.page.click("#pm-host")
    expect(a.page.locator("#confirm-title")).to_have_text("Make Player 4 the host?")
    a.page.click("#confirm-ok")
    expect(b.page.locator("#host-controls")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(a.page.locator("#host-controls")).to_be_hidden()
    expect(a.card(1).locator(".host-menu")).to_be_hidden()
    # the seat's token brings the role back after a reload
    b.reload()
    expect(b.page.locator("#host-controls")).to_be_visible()
    expect(b.card(4)).to_have_attribute("data-seat", "mine")
    seat_menu(b, 4)
    expect(b.page.locator("#pm-seat")).to_have_text("Seat 4: your seat")
    expect(b.page.locator("#pm-host")).to_be_hidden()
    b.page.click("#dlg-player [data-close]")
    seat_menu(b, 1)
    expect(b.page.locator("#pm-host")).to_be_visible()
    b.page.click("#dlg-player [data-close]")

    b.start()
    c.page.click("#btn-more")
    c.page.click("#btn-concede")
    expect(c.page.locator("#dlg-confirm")).to_be_visible()
    c.page.click("#dlg-confirm [data-close]")
    assert "concede" not in c.sent_types()
    c.page.click("#btn-more")
    c.page.click("#btn-concede")
    c.page.click("#confirm-ok")
    expect(a.card(3)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
    expect(a.card(3).locator(".out-reason")).to_have_text("Out: conceded")
    c.page.click("#btn-more")
    expect(c.page.locator("#btn-history")).to_be_visible()
    expect(c.page.locator("#btn-concede")).to_be_hidden()


def test_a_seated_player_takes_the_host_role_once_the_host_has_been_away_long_enough(open_app: OpenApp) -> None:
    (a, b), _ = seated(open_app, 2, 2, **{"host-timeout": "10s"})
    assert a.wait_sent("create")["data"]["settings"]["hostTimeout"] == 10_000
    expect(b.page.locator("#host-away")).to_be_hidden()
    a.context.close()
    away = b.page.locator("#host-away")
    expect(away).to_be_visible(timeout=3_000)
    expect(away).to_contain_text("You can take the host role in")
    expect(b.page.locator("#btn-claim-host")).to_be_disabled()
    expect(b.page.locator("#btn-claim-host")).to_be_enabled(timeout=12_000)
    b.page.click("#btn-claim-host")
    expect(b.page.locator("#host-controls")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(away).to_be_hidden()


def test_every_new_panel_passes_the_contrast_target_and_label_audit_on_a_phone(open_app: OpenApp) -> None:
    a = open_app(width=320, height=640)
    a.fill_create_form(players=4)
    a.page.click("#rules-create > summary")
    a.page.select_option("#f-rules-format", "commander")
    a.page.select_option("#f-rules-control", "turnCap")
    audit(a.page, "create form with the rules")
    assert no_sideways_scroll(a.page)
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(4)
    a.claim(1)
    a.card(2).locator(".extras-toggle").click()
    expect(a.card(2).locator(".cmd-grid")).to_be_visible()
    audit(a.page, "commander grid")
    assert no_sideways_scroll(a.page)
    panels = (("#btn-rules", "#dlg-rules"), ("#btn-history", "#dlg-history"))
    for button, dialog in panels:
        a.page.click("#btn-more")
        audit(a.page, "table menu")
        a.page.click(button)
        expect(a.page.locator(f"{dialog} h2")).to_be_visible()
        audit(a.page, dialog)
        a.page.locator(dialog).get_by_role("button", name=re.compile("^(Cancel|Close)$")).click()
        expect(a.page.locator(dialog)).to_be_hidden()
    # the host's own seat's menu: every seat action but the handover, and three seats to move to
    seat_menu(a, 1)
    expect(a.page.locator("#pm-move-row button")).to_have_text(["Seat 2", "Seat 3", "Seat 4"])
    expect(a.page.locator("#pm-free")).to_be_visible()
    expect(a.page.locator("#pm-colors")).to_be_visible()
    audit(a.page, "seat menu")
    assert no_sideways_scroll(a.page)
    a.page.click("#dlg-player [data-close]")
    a.start()
    a.page.get_by_role("button", name="Decrease life of player 1").click()
    expect(a.page.locator("#undo-toast")).to_be_visible()
    audit(a.page, "undo toast")
    expect(a.page.locator("#turn-round")).to_be_visible()
    assert no_sideways_scroll(a.page)
    for pid in (2, 3, 4):
        a.card(pid).locator(".host-menu").click()
        a.page.click("#pm-eliminate")
        a.page.click("#confirm-ok")
        expect(a.card(pid)).to_have_class(ELIMINATED)
    expect(a.page.locator("#game-summary")).to_be_visible()
    expect(a.card(4).locator(".out-reason")).to_have_text("Out: the host")
    audit(a.page, "summary")
    assert no_sideways_scroll(a.page)


def test_the_turn_cap_warns_and_passes_the_turn_on_every_phone(open_app: OpenApp) -> None:
    (a, b), _ = seated(open_app, 2, 2, control="turnCap", amount="3s", **{"cap-warning": "2s"})
    a.start()
    for app in (a, b):
        expect(app.page.locator("#notice-text")).to_have_text("Player 1: 2 seconds left in this turn", timeout=3_000)
    for app in (a, b):
        expect(app.page.locator("#notice-text")).to_have_text(
            "Player 1's turn time is up: Player 2's turn", timeout=3_000
        )
    expect(b.card(2)).to_have_class(ACTIVE)
    expect(b.page.locator("#turn-round .hide-narrow")).to_have_text("Turn 2 · Round 1")


def test_two_headed_giant_shares_poison_and_the_team_wins_together(open_app: OpenApp) -> None:
    a = open_app()
    a.fill_create_form(players=4)
    a.page.click("#rules-create > summary")
    a.page.select_option("#f-rules-format", "twoHeadedGiant")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(4)
    expect(a.card(3).locator(".stat-life .stat-value")).to_have_text("30")
    a.start()
    a.card(1).locator(".extras-toggle").click()
    a.page.get_by_role("button", name="Increase poison of player 1").click()
    expect(a.card(2).locator(".sum-poison .sum-value")).to_have_text("1", timeout=SEEN_WITHIN_MS)
    expect(a.card(1).locator(".stat-poison .stat-value")).to_have_text("1/15")
    a.card(3).locator(".host-menu").click()
    a.page.click("#pm-eliminate")
    a.page.click("#confirm-ok")
    expect(a.card(4)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
    expect(a.page.locator("#summary-title")).to_have_text("Player 1 and Player 2 win")
