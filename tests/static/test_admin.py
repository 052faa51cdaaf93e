"""The host's admin actions (js/admin.js, in the per-player menu of js/host.js), several
browser contexts on a real service: add time to a player's clock (1, 5 or 10 minutes from the
menu itself, any amount from its dialog), kick a player (asked first;
the kicked device shows it, forgets the seat and watches), and revive the kicked player."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000
ELIMINATED = re.compile(r"\beliminated\b")


def menu(app: App, player: int, item: str) -> None:
    app.card(player).locator(".host-menu").click()
    expect(app.page.locator("#dlg-player")).to_be_visible()
    app.page.click(item)


def test_the_host_adds_time_kicks_and_revives_and_every_device_follows(open_app: OpenApp) -> None:
    (a, b, c), code = seated(open_app, 3, 3)
    a.start()
    apps = [a, b, c]

    # add time: 1 to 60 minutes, checked in the page; seat 2's clock is not running
    menu(a, 2, "#pm-add-time")
    expect(a.page.locator("#dlg-add-time")).to_be_visible()
    expect(a.page.locator("#add-time-title")).to_have_text("Add time for Player 2")
    audit(a.page, "add time dialog")
    a.page.fill("#add-minutes", "61")
    a.page.click("#dlg-add-time button[type=submit]")
    expect(a.page.locator("#add-time-error")).to_have_text("Minutes: a number from 1 to 60.")
    assert "adminAddTime" not in a.sent_types()
    a.page.click('#dlg-add-time button[data-minutes="5"]')
    expect(a.page.locator("#add-minutes")).to_have_value("5")
    a.page.fill("#add-minutes", "2.5")
    a.page.click("#dlg-add-time button[type=submit]")
    expect(a.page.locator("#dlg-add-time")).to_be_hidden()
    assert a.wait_sent("adminAddTime")["data"] == {"playerId": 2, "minutes": 2.5}
    for app in apps:
        expect(app.clock(2)).to_have_text("12:30", timeout=SEEN_WITHIN_MS)
    # the usual amounts are one tap in the menu itself
    menu(a, 2, '#pm-add-row [data-minutes="5"]')
    expect(a.page.locator("#dlg-player")).to_be_hidden()
    expect(a.page.locator("#dlg-add-time")).to_be_hidden()
    assert [f["data"] for f in a.sent if f.get("type") == "adminAddTime"][-1] == {"playerId": 2, "minutes": 5}
    for app in apps:
        expect(app.clock(2)).to_have_text("17:30", timeout=SEEN_WITHIN_MS)

    # a player still in has nothing to revive
    menu(a, 2, "#pm-time")
    expect(a.page.locator("#pm-revive")).to_be_hidden()
    a.page.click("#dlg-time [data-close]")

    # kick: asked first, cancelling sends nothing
    menu(a, 3, "#pm-kick")
    expect(a.page.locator("#confirm-title")).to_have_text("Kick Player 3?")
    a.page.click("#dlg-confirm [data-close]")
    assert "adminKick" not in a.sent_types()
    assert c.stored_games()[code]["seat"]["playerId"] == 3
    menu(a, 3, "#pm-kick")
    a.page.click("#confirm-ok")
    assert a.wait_sent("adminKick")["data"] == {"playerId": 3}
    expect(c.page.locator("#notice-text")).to_have_text(
        "The host removed you from seat 3. You are watching now.", timeout=SEEN_WITHIN_MS
    )
    assert [f["data"] for f in c.received if f.get("type") == "kicked"] == [{"playerId": 3}]
    assert not any(f.get("type") == "kicked" for f in a.received + b.received)
    expect(c.card(3)).to_have_attribute("data-seat", "free")
    expect(c.page.locator("#watching")).to_be_visible()
    assert "seat" not in c.stored_games()[code]
    for app in apps:
        expect(app.card(3)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
        expect(app.card(3).locator(".out-reason")).to_have_text("Out: kicked")
    # nobody holds seat 3 any more: there is no one to kick
    a.card(3).locator(".host-menu").click()
    expect(a.page.locator("#pm-kick")).to_be_disabled()
    expect(a.page.locator("#pm-add-row button")).to_have_count(4)
    for button in a.page.locator("#pm-add-row button").all():
        expect(button).to_be_disabled()

    # revive: asked first; the player is back in on every device
    a.page.click("#pm-revive")
    expect(a.page.locator("#confirm-title")).to_have_text("Revive Player 3?")
    a.page.click("#confirm-ok")
    assert a.wait_sent("adminRevive")["data"] == {"playerId": 3}
    for app in apps:
        expect(app.card(3)).not_to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
        expect(app.card(3).locator(".out-reason")).to_be_hidden()
    # the kicked device keeps watching after a reload: its seat token is gone
    c.reload()
    expect(c.card(3)).to_have_attribute("data-seat", "free")
    expect(c.page.locator("#watching")).to_be_visible()
