"""HEAD's timeout choice in the players' hands (js/timeout-form.js, js/timeout-choice.js):
the create form's section with the server's bounds checked in place and every setting sent;
the dialog with its three choices and live countdown for the player whose clock ran out
(again after a reload), the pending choice with its countdown on that player's card for the
others, and `die` asked again before it is sent."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit, audit_on_a_phone
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_500
CHOICE_KEYS = ("bonusTime", "timeoutPenaltyLives", "timeoutPenaltyDrunk", "timeoutGracePeriod", "timeoutBonusTime")


def latest_state(app: App, game: str | None = None) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state" and game in (None, f["data"]["id"])]
    return max(states, key=lambda s: int(s["version"]))


def fill_timeout(app: App, prefix: str, **values: str) -> None:
    """Fills the timeout section's fields under `prefix` (the create form's or the rules
    dialog's), {field id suffix: value}."""
    for suffix, value in values.items():
        app.page.fill(f"#{prefix}-{suffix}", value)


def ms_of(app: App, selector: str) -> int:
    return int(app.page.locator(selector).get_attribute("data-ms") or "-1")


def test_the_create_form_checks_and_sends_the_timeout_choice_and_turn_bonus(open_app: OpenApp) -> None:
    a = open_app()
    a.fill_create_form(players=2)
    # off (the default): a plain create, as before, with the v1 timeout
    a.page.click("#timeout-create > summary")
    expect(a.page.locator("#f-timeout-lives")).to_be_hidden()
    a.page.check("#f-timeout-on")
    audit_on_a_phone(a.page, "create form with the timeout choice")
    expect(a.page.locator("#f-timeout-lives")).to_have_value("2")
    expect(a.page.locator("#f-timeout-drunk")).to_have_value("2")
    expect(a.page.locator("#f-timeout-grace")).to_have_value("30s")
    expect(a.page.locator("#f-timeout-after")).to_have_value("1")
    expect(a.page.locator("#f-timeout-bonus")).to_have_value("30s")
    a.page.fill("#f-timeout-lives", "21")
    a.page.fill("#f-timeout-grace", "4s")
    a.page.fill("#f-timeout-bonus", "6")
    a.page.click("#create-submit")
    expect(a.page.locator("#f-timeout-lives-error")).to_have_text("A whole number from 0 to 20.")
    expect(a.page.locator("#f-timeout-grace-error")).to_have_text("Between 5 seconds and 5 minutes (e.g. 30s).")
    expect(a.page.locator("#f-timeout-bonus-error")).to_have_text("Between 0 and 5 minutes (e.g. 30s).")
    expect(a.page.locator("#f-timeout-drunk-error")).to_be_hidden()
    expect(a.page.locator("#f-timeout-lives")).to_have_attribute("aria-invalid", "true")
    assert "create" not in a.sent_types()

    fill_timeout(a, "f-timeout", lives="0", drunk="20", grace="5:00", after="0", bonus="0")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(2)
    sent = a.wait_sent("create")["data"]["settings"]
    assert {k: sent[k] for k in CHOICE_KEYS} == {
        "bonusTime": 0,
        "timeoutPenaltyLives": 0,
        "timeoutPenaltyDrunk": 20,
        "timeoutGracePeriod": 300_000,
        "timeoutBonusTime": 0,
    }
    settings = latest_state(a)["settings"]
    assert {k: settings[k] for k in CHOICE_KEYS} == {k: sent[k] for k in CHOICE_KEYS}

    # the host's Table rules change them (the same fields and bounds), only what changed sent
    a.page.click("#btn-more")
    a.page.click("#btn-rules")
    expect(a.page.locator("#rules-timeout")).to_be_visible()
    expect(a.page.locator("#r-timeout-on")).to_have_count(0)
    for suffix, value in (("lives", "0"), ("drunk", "20"), ("grace", "5"), ("after", "0"), ("bonus", "0")):
        expect(a.page.locator(f"#r-timeout-{suffix}")).to_have_value(value)
    fill_timeout(a, "r-timeout", lives="5", grace="4s", bonus="10s")
    a.page.click("#dlg-rules button[type=submit]")
    expect(a.page.locator("#r-timeout-grace-error")).to_have_text("Between 5 seconds and 5 minutes (e.g. 30s).")
    assert "updateSettings" not in a.sent_types()
    audit_on_a_phone(a.page, "table rules with the timeout choice")
    a.page.fill("#r-timeout-grace", "1:00")
    a.page.click("#dlg-rules button[type=submit]")
    expect(a.page.locator("#dlg-rules")).to_be_hidden()
    assert a.wait_sent("updateSettings")["data"] == {
        "timeoutPenaltyLives": 5,
        "timeoutGracePeriod": 60_000,
        "bonusTime": 10_000,
    }
    changed = {**{k: sent[k] for k in CHOICE_KEYS}, "timeoutPenaltyLives": 5, "timeoutGracePeriod": 60_000}
    changed["bonusTime"] = 10_000
    for _ in range(100):
        settings = latest_state(a)["settings"]
        if settings["bonusTime"] == 10_000:
            break
        a.page.wait_for_timeout(20)
    assert {k: settings[k] for k in CHOICE_KEYS} == changed

    # unticked again: none of them is sent, and the game has no choice (v1's timeout)
    # the device remembers them with the last settings, as the rest of the form
    a.open("/")
    expect(a.page.locator("#home")).to_be_visible()
    expect(a.page.locator("#f-timeout-on")).to_be_checked()
    expect(a.page.locator("#f-timeout-drunk")).to_have_value("20")
    expect(a.page.locator("#f-timeout-grace")).to_have_value("5:00")
    a.page.click("#timeout-create > summary")
    a.page.uncheck("#f-timeout-on")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(2)
    creates = [f["data"]["settings"] for f in a.sent if f.get("type") == "create"]
    assert len(creates) == 2 and not set(CHOICE_KEYS) & creates[1].keys()
    second = a.page.inner_text("#game-code")
    st = latest_state(a, second)
    assert not set(CHOICE_KEYS) & st["settings"].keys()
    # a game without the choice has none of its settings to change
    a.page.click("#btn-more")
    a.page.click("#btn-rules")
    expect(a.page.locator("#dlg-rules")).to_be_visible()
    expect(a.page.locator("#rules-timeout")).to_be_hidden()


def test_a_clock_at_zero_offers_its_player_the_choice_with_a_countdown_and_the_others_see_it(open_app: OpenApp) -> None:
    a = open_app()
    a.fill_create_form(players=2, time_each="2s")
    a.page.click("#timeout-create > summary")
    a.page.check("#f-timeout-on")
    fill_timeout(a, "f-timeout", lives="3", drunk="1", grace="15s", after="2s", bonus="0")
    a.page.click("#create-submit")
    expect(a.cards()).to_have_count(2)
    code = a.page.inner_text("#game-code")
    a.claim(1)
    b = open_app(f"/?game={code}")
    b.claim(2)
    a.start()

    dialog = a.page.locator("#dlg-timeout")
    expect(dialog).to_be_visible(timeout=4_000)
    choice = [f["data"] for f in b.received if f.get("type") == "timeoutChoice"]
    assert [(d["playerId"], d["options"]) for d in choice] == [(1, {"livesLoss": 3, "drunkGain": 1})]
    expect(a.page.locator("#tc-lives")).to_have_text("Lose 3 lives")
    expect(a.page.locator("#tc-drunk")).to_have_text("Gain 1 drunk")
    expect(a.page.locator("#tc-die")).to_have_text("Accept death")
    expect(b.page.locator("#dlg-timeout")).to_be_hidden()
    expect(b.page.locator("#notice-text")).to_have_text("Player 1's time ran out: Player 1 is choosing")
    st = latest_state(b)
    assert (st["status"], st["players"][0]["timeoutPending"]) == ("running", True)
    # the countdown runs, on the player's dialog and on the card the others see
    first = ms_of(a, "#timeout-left")
    first_b = ms_of(b, '.card[data-player="1"] .mark-timeout')
    assert 0 < first <= 15_000 and 0 < first_b <= 15_000
    expect(b.card(1).locator(".mark-timeout")).to_contain_text("Choosing · 0:1")
    audit(a.page, "timeout choice dialog")
    audit(b.page, "a pending timeout choice on a card")
    # timed around a pause of its own (the audits take what a loaded machine gives them): both
    # countdowns move by the time that passed, give or take a frame or two
    t0 = time.monotonic()
    before, before_b = ms_of(a, "#timeout-left"), ms_of(b, '.card[data-player="1"] .mark-timeout')
    a.page.wait_for_timeout(500)
    drop = before - ms_of(a, "#timeout-left")
    drop_b = before_b - ms_of(b, '.card[data-player="1"] .mark-timeout')
    elapsed = (time.monotonic() - t0) * 1000
    assert 250 < drop < elapsed + 250 and 250 < drop_b < elapsed + 250, (drop, drop_b, elapsed)
    # Space (meant to pass a turn) reaches no choice: the dialog opens with its title focused
    a.page.keyboard.press("Space")
    a.page.wait_for_timeout(150)
    assert "timeoutChoice" not in a.sent_types()

    # the choice survives a reload: the dialog is back, with the grace that is left
    a.reload()
    expect(dialog).to_be_visible(timeout=3_000)
    left = ms_of(a, "#timeout-left")
    assert 0 < left < first - 500
    # put off, it is one tap away on the player's own card
    a.page.click("#tc-later")
    expect(dialog).to_be_hidden()
    expect(b.card(1).locator(".timeout-open")).to_be_hidden()
    a.card(1).locator(".timeout-open").click()
    expect(dialog).to_be_visible()
    a.page.click("#tc-lives")
    assert a.wait_sent("timeoutChoice")["data"] == {"choice": "loseLives"}
    expect(dialog).to_be_hidden(timeout=SEEN_WITHIN_MS)
    expect(b.card(1).locator(".stat-life .stat-value")).to_have_text("17", timeout=SEEN_WITHIN_MS)
    expect(b.card(1).locator(".timeout-mark")).to_be_hidden()

    # the clock restarted from 2 s and runs out again: this time the player accepts death,
    # which is asked again first (and cancelling the question sends nothing)
    expect(dialog).to_be_visible(timeout=4_000)
    a.page.click("#tc-die")
    expect(a.page.locator("#dlg-confirm")).to_be_visible()
    expect(a.page.locator("#confirm-title")).to_have_text("Accept death?")
    a.page.click("#dlg-confirm [data-close]")
    expect(a.page.locator("#dlg-confirm")).to_be_hidden()
    assert [f["data"]["choice"] for f in a.sent if f.get("type") == "timeoutChoice"] == ["loseLives"]
    expect(dialog).to_be_visible()
    a.page.click("#tc-die")
    a.page.click("#confirm-ok")
    expect(dialog).to_be_hidden(timeout=SEEN_WITHIN_MS)
    assert [f["data"]["choice"] for f in a.sent if f.get("type") == "timeoutChoice"] == ["loseLives", "die"]
    expect(b.page.locator("#game")).to_have_attribute("data-status", "finished", timeout=SEEN_WITHIN_MS)
    final = latest_state(b)
    assert (final["winner"], final["players"][0]["isEliminated"], final["players"][0]["eliminatedReason"]) == (
        2,
        True,
        "timeout",
    )
