"""Campaigns (js/campaign.js), several browser contexts on a real service: the create form's
mode and preset (the table's format rules are not sent with a campaign), the round line, the
info panel's standings and round history against the state's `campaign`, each round's result
in the victory overlay and the campaign's winner when its last round ends."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit, no_sideways_scroll
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000
ELIMINATED = re.compile(r"\beliminated\b")


def last_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    out: dict[str, Any] = states[-1]
    return out


def used(ms: int) -> str:
    total = round(ms / 1000)
    return f"{total // 60}:{total % 60:02d}"


def panel_matches_state(app: App) -> None:
    """The panel's standings and history are the state's numbers, row for row."""
    cp = last_state(app)["campaign"]
    rows = app.page.locator("#campaign-stats tbody tr")
    expect(rows).to_have_count(len(cp["playerStats"]))
    for i in range(len(cp["playerStats"])):
        row = rows.nth(i)
        pid = row.get_attribute("data-player")
        assert pid is not None
        s = cp["playerStats"][pid]
        expect(row.locator(".cs-place")).to_have_text(str(i + 1))
        expect(row.locator(".cs-wins")).to_have_text(str(s["wins"]))
        expect(row.locator(".cs-losses")).to_have_text(str(s["losses"]))
        expect(row.locator(".cs-time")).to_have_text(used(s["totalTimeUsed"]))
        expect(row.locator(".cs-penalties")).to_have_text(str(s["penalties"]))
        expect(row.locator(".cs-points")).to_have_text(str(cp["playerPoints"][pid]))
        expect(row.locator(".cs-level")).to_have_text(str(cp["playerLevels"][pid]))
    history = app.page.locator("#campaign-history tbody tr")
    expect(history).to_have_count(len(cp["history"]))
    for i, r in enumerate(cp["history"]):
        expect(history.nth(i).locator(".ch-round")).to_have_text(str(r["round"]))
        expect(history.nth(i).locator(".ch-winner")).to_have_text(f"Player {r['winner']}")


def open_panel(app: App) -> None:
    app.page.click("#btn-more")
    app.page.click("#btn-campaign")
    expect(app.page.locator("#dlg-campaign")).to_be_visible()


def win_round(a: App, b: App, round_no: int) -> None:
    """Player 1 wins a round: the host starts it and takes player 2 out."""
    a.start()
    expect(b.page.locator("#dlg-victory")).to_be_hidden(timeout=SEEN_WITHIN_MS)
    a.card(2).locator(".host-menu").click()
    a.page.click("#pm-eliminate")
    a.page.click("#confirm-ok")
    for app in (a, b):
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#summary-title")).to_have_text(f"Player 1 wins round {round_no}")


def test_a_wastelands_campaign_from_the_create_form_to_its_winner(open_app: OpenApp) -> None:
    a = open_app()
    a.fill_create_form(players=2)
    expect(a.page.locator("#campaign-preset-row")).to_be_hidden()
    # a format chosen first is not sent with a campaign: its preset sets the life
    a.page.click("#rules-create > summary")
    a.page.select_option("#f-rules-format", "commander")
    a.page.select_option("#f-mode", "campaign")
    expect(a.page.locator("#campaign-preset-row")).to_be_visible()
    expect(a.page.locator("#f-rules-format")).to_be_disabled()
    a.page.select_option("#f-campaign-preset", "wastelands")
    expect(a.page.locator("#f-campaign-hint")).to_contain_text("3 rounds of 6 min")
    audit(a.page, "campaign create form")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(2)
    sent = a.wait_sent("create")["data"]["settings"]
    assert sent["mode"] == "campaign" and sent["campaignPreset"] == "wastelands"
    assert not {"format", "startingLife", "lossRules"} & sent.keys()
    code = a.page.inner_text("#game-code")
    a.claim(1)
    b = open_app(f"/?game={code}")
    b.claim(2)
    for app in (a, b):
        expect(app.page.locator("#campaign-line")).to_have_text("Campaign Wastelands · Round 1 of 3")
        expect(app.card(2).locator(".stat-life .stat-value")).to_have_text("10")
    open_panel(b)
    expect(b.page.locator("#campaign-title")).to_have_text("Campaign: Wastelands")
    expect(b.page.locator("#campaign-summary")).to_have_text("Round 1 of 3 rounds · wins: most points")
    expect(b.page.locator("#campaign-no-history")).to_be_visible()
    panel_matches_state(b)
    b.page.click("#btn-campaign-close")

    # round 1: player 1 deals 3 damage on their turn (3 points), then player 2 is out
    a.start()
    for _ in range(3):
        a.page.get_by_role("button", name="Decrease life of player 2").click()
    expect(b.card(2).locator(".stat-life .stat-value")).to_have_text("7", timeout=SEEN_WITHIN_MS)
    a.card(2).locator(".host-menu").click()
    a.page.click("#pm-eliminate")
    a.page.click("#confirm-ok")
    for app in (a, b):
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#summary-title")).to_have_text("Player 1 wins round 1")
        expect(app.page.locator('#dlg-victory tr[data-player="1"] .summary-out')).to_have_text("winner")
        # the next round is already there behind it
        expect(app.page.locator("#game")).to_have_attribute("data-status", "waiting")
        expect(app.page.locator("#campaign-line")).to_have_text("Campaign Wastelands · Round 2 of 3")
    assert b.page.evaluate("document.querySelector('#dlg-victory #game-summary') !== null")
    audit(b.page, "a round's result")
    b.page.click("#btn-victory-close")
    expect(b.page.locator("#dlg-victory")).to_be_hidden()
    expect(b.page.locator("#game-summary")).to_be_hidden()
    open_panel(b)
    expect(b.page.locator("#campaign-summary")).to_have_text("Round 2 of 3 rounds · wins: most points")
    cp = last_state(b)["campaign"]
    assert cp["playerStats"]["1"]["wins"] == 1 and cp["playerStats"]["2"]["losses"] == 1
    assert cp["playerPoints"]["1"] == 3
    expect(b.page.locator('#campaign-stats tr[data-player="1"] .cs-points')).to_have_text("3")
    panel_matches_state(b)
    audit(b.page, "campaign panel")
    assert no_sideways_scroll(b.page)
    b.page.click("#btn-campaign-close")
    a.page.click("#btn-victory-close")

    # rounds 2 and 3: the last one completes the campaign, its standings open on every device
    win_round(a, b, 2)
    # left open, a round's result goes when the next round starts
    expect(b.page.locator("#dlg-victory")).to_be_visible()
    win_round(a, b, 3)
    done = [f["data"] for f in a.received if f.get("type") == "campaignComplete"]
    assert len(done) == 1 and done[0]["winner"] == 1
    for app in (a, b):
        expect(app.page.locator("#dlg-campaign")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#campaign-result")).to_have_text("Player 1 wins the campaign")
        expect(app.page.locator("#game")).to_have_attribute("data-status", "finished")
        expect(app.page.locator("#campaign-line")).to_have_text("Campaign Wastelands · completed")
        assert last_state(app)["campaign"]["status"] == "completed"
        panel_matches_state(app)
        expect(app.page.locator("#campaign-history tbody tr")).to_have_count(3)
    expect(b.page.locator("#campaign-summary")).to_have_text("Completed after 3 of 3 rounds · wins: most points")
    expect(b.page.locator('#campaign-stats tr[data-player="1"] .cs-wins')).to_have_text("3")
    b.page.click("#btn-campaign-close")
    # the last round's result is under it
    expect(b.page.locator("#dlg-victory")).to_be_visible()
    expect(b.page.locator("#summary-title")).to_have_text("Player 1 wins round 3")

    # the next game's form starts from this one's mode and preset
    a.page.goto(a.base_url + "/")
    expect(a.page.locator("#f-mode")).to_have_value("campaign")
    expect(a.page.locator("#f-campaign-preset")).to_have_value("wastelands")
    expect(a.page.locator("#campaign-preset-row")).to_be_visible()
