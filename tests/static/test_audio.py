"""Warnings and timeouts in a real 3-second game: what each page shows and whether it beeps.

`window.__tapotarp.tonesPlayed` counts oscillators started on a running AudioContext, so it
stays 0 for a muted page and for a page nobody has touched yet (browsers allow sound only
after a gesture).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp

pytestmark = pytest.mark.slow


def test_a_short_game_warns_then_times_out_and_only_unmuted_pages_beep(open_app: OpenApp) -> None:
    host = open_app()
    host.page.click("#mute")
    expect(host.page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    # 0.05 minutes = 3 s, a warning at 2 s left
    code = host.create_game(players=2, time_each="0.05", thresholds="2s")
    expect(host.clock(1)).to_have_text("0:03.0")
    host.claim(1)
    player = open_app(f"/?game={code}")
    player.claim(2)  # a tap: this page may now make sound
    untouched = open_app(f"/?game={code}")
    expect(untouched.card(2)).to_have_attribute("data-seat", "taken")

    host.start()
    for app in (host, player, untouched):
        expect(app.card(1)).to_have_class(re.compile(r"\bcritical\b"))
    for app in (host, player, untouched):
        expect(app.page.locator("#notice")).to_have_attribute("data-kind", "warning", timeout=3_000)
        expect(app.page.locator("#notice-text")).to_have_text("Player 1: 2 seconds left")
    expect(player.page.locator("#announcer")).to_have_text("Player 1: 2 seconds left")
    warned_tones = player.tones_played()
    assert warned_tones > 0

    for app in (host, player, untouched):
        expect(app.card(1)).to_have_class(re.compile(r"\btimeout\b"), timeout=3_000)
        expect(app.page.locator("#notice")).to_have_attribute("data-kind", "timeout")
        expect(app.page.locator("#notice-text")).to_have_text("Player 1 ran out of time")
        expect(app.clock(1)).to_have_text("0:00.0")
        expect(app.page.locator("#game")).to_have_attribute("data-status", "paused")
    expect(player.card(1).locator(".penalties")).to_have_text("1")
    # the timeout's four square-wave beeps come on top of the warning's
    assert player.tones_played() >= warned_tones + 4
    assert host.tones_played() == 0
    assert untouched.tones_played() == 0

    # the mute switch is remembered, and M flips it
    host.reload()
    expect(host.page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    host.page.keyboard.press("m")
    expect(host.page.locator("#mute")).to_have_attribute("aria-pressed", "false")
    assert host.page.evaluate("localStorage.getItem('tapotarp.muted')") == "0"
