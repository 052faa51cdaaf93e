"""js/dialogs.js `closeAll()`: when the page leaves a game (Back, Leave, the game deleted by
its host) every <dialog> open in the page closes, whichever module built it (the table menu,
the history, the victory overlay), so nothing of the old game stays over the home screen or
the next game. Two browser contexts on a real service."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_000


def open_dialogs(app: App) -> list[str]:
    ids: list[str] = app.page.eval_on_selector_all("dialog[open]", "ds => ds.map((d) => d.id)")
    return ids


def test_back_leave_and_a_deleted_game_close_every_open_dialog(open_app: OpenApp) -> None:
    (a, b), code = seated(open_app, 2, 2)
    a.start()

    # Back, with the history open over the board
    a.page.click("#btn-more")
    a.page.click("#btn-history")
    expect(a.page.locator("#dlg-history")).to_be_visible()
    a.page.go_back()
    expect(a.page.locator("#home")).to_be_visible()
    assert open_dialogs(a) == []
    a.page.go_forward()
    expect(a.page.locator("#game-code")).to_have_text(code)
    expect(a.card(1)).to_have_attribute("data-seat", "mine")

    # the end of the game: the victory overlay (not modal) on both, then Leave
    a.card(2).locator(".host-menu").click()
    a.page.click("#pm-eliminate")
    a.page.click("#confirm-ok")
    for app in (a, b):
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
    a.page.click("#btn-leave")
    expect(a.page.locator("#home")).to_be_visible()
    assert open_dialogs(a) == []
    # the summary went back to its place: the game opened again shows it above the board
    a.open(f"/?game={code}")
    expect(a.page.locator("#dlg-victory")).to_be_visible()
    a.page.click("#btn-victory-close")
    expect(a.page.locator("#game-summary")).to_be_visible()
    assert a.page.locator("#game-summary").count() == 1

    # the host deletes the game while B has the table menu open over the victory overlay
    b.page.click("#btn-more")
    assert sorted(open_dialogs(b)) == ["dlg-table", "dlg-victory"]
    a.page.click("#btn-more")
    a.page.click("#btn-end-game")
    a.page.click("#confirm-ok")
    for app in (a, b):
        expect(app.page.locator("#home")).to_be_visible(timeout=SEEN_WITHIN_MS)
        assert open_dialogs(app) == []
    expect(b.page.locator("#home-notice")).to_have_text(re.compile(r"^The host deleted game "))
