"""Every screen and dialog of the web client, walked with several browser contexts on a real
service, each checked where it is shown: no uncaught error, no console error and no
Content-Security-Policy violation on any page, and the contrast and 44 px target audit
(test_accessibility.audit) on the page shown.

The dialogs are enumerated from the page itself (index.html's and those the modules build),
as are the items of the More menu and of the host's player menu: a new one that this walk
never opens fails it, so none can be forgotten."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from tests.static.conftest import OpenApp
from tests.static.test_accessibility import audit
from tests.support.page import App

pytestmark = pytest.mark.slow

SEEN_WITHIN_MS = 1_500
INDEX = Path(__file__).resolve().parents[2] / "service" / "static" / "index.html"
ELIMINATED = re.compile(r"\beliminated\b")
#: the buttons that put a dialog away without doing anything
DISMISS = re.compile(r"^(Cancel|Close|OK)$")

#: every item of a menu, named by its id, else its accessible label, else its text
#: each button of a menu, named by its id, label or text; the buttons of a row that is one
#: choice (a palette, the minutes to add, the seat to move to) are one item, named by the row
MENU_ITEMS = """(sel) => [...document.querySelectorAll(sel)].map((b) => ({
  key: b.closest('.palette[id], #pm-add-row, #pm-move-row')?.id
    || b.id || b.getAttribute('aria-label') || b.textContent.trim(),
  visible: b.checkVisibility(),
}))"""


def menu_keys(items: list[dict[str, Any]]) -> list[str]:
    """The visible items' keys, each once, in the menu's order."""
    return list(dict.fromkeys(i["key"] for i in items if i["visible"]))


class Walk:
    """What the walk has shown so far, and the checks made on each screen."""

    def __init__(self) -> None:
        #: every device so far, by name
        self.apps: dict[str, App] = {}
        self.dialogs: set[str] = set()
        self.menu_items: set[str] = set()
        self.player_items: set[str] = set()
        self.screens: list[str] = []

    def device(self, name: str, app: App) -> App:
        self.apps[name] = app
        return app

    def check(self, app: App, screen: str) -> None:
        """`screen` is what `app` shows now: audited, and every page so far still clean."""
        screen = f"{next(n for n, a in self.apps.items() if a is app)}: {screen}"
        self.screens.append(screen)
        self.dialogs.update(app.page.eval_on_selector_all("dialog[open]", "ds => ds.map((d) => d.id)"))
        for name, other in self.apps.items():
            problems = [*other.page_errors, *other.unexpected_console_errors()]
            problems += [f"CSP {v}" for v in other.csp_violations()]
            assert problems == [], f"at {screen!r}, on {name}: {problems}"
        audit(app.page, screen)

    def dialog(self, app: App, dialog_id: str, screen: str) -> None:
        """Waits for `dialog_id` to open, checks it, and puts it away."""
        dialog = app.page.locator(f"#{dialog_id}")
        expect(dialog).to_be_visible(timeout=SEEN_WITHIN_MS)
        self.check(app, screen)
        dismiss(dialog)


def dismiss(dialog: Locator) -> None:
    dialog.get_by_role("button", name=DISMISS).last.click()
    expect(dialog).to_be_hidden()


def last_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    out: dict[str, Any] = max(states, key=lambda s: int(s["version"]))
    return out


def open_more(app: App) -> None:
    app.page.click("#btn-more")
    expect(app.page.locator("#dlg-table")).to_be_visible()


def toast(walk: Walk, app: App, screen: str) -> None:
    expect(app.page.locator("#tools-toast")).to_be_visible(timeout=SEEN_WITHIN_MS)
    walk.check(app, screen)
    app.page.click("#btn-toast-close")
    expect(app.page.locator("#tools-toast")).to_be_hidden()


def walk_more_menu(walk: Walk, app: App, others: list[App], state: str, *, only_new: bool = False) -> None:
    """Opens the More menu on `app` and uses each item it shows (`only_new`: each not used
    yet), closing what the item opens without
    changing the game for good."""

    def confirm_then_cancel(what: str) -> Callable[[], None]:
        return lambda: walk.dialog(app, "dlg-confirm", f"{what} asked first, {state}")

    def play_order() -> None:
        # asked first: the order it replaces is gone
        expect(app.page.locator("#dlg-confirm")).to_be_visible(timeout=SEEN_WITHIN_MS)
        walk.check(app, f"play order roll asked first, {state}")
        app.page.click("#confirm-ok")
        for device in (app, *others):
            walk.dialog(device, "dlg-play-order", f"play order overlay, {state}")

    def listed() -> None:
        # Unlist, then list again from the menu: both labels shown
        button = app.page.locator("#btn-listed")
        expect(button).to_have_attribute("data-listed", "false", timeout=SEEN_WITHIN_MS)
        open_more(app)
        walk.check(app, f"More menu with the game unlisted, {state}")
        button.click()
        expect(button).to_have_attribute("data-listed", "true", timeout=SEEN_WITHIN_MS)

    def undo() -> None:
        for device in (app, *others):
            expect(device.page.locator("#notice-text")).to_contain_text("undid", timeout=SEEN_WITHIN_MS)
        walk.check(app, f"the host's undo, {state}")

    steps: dict[str, Callable[[], None]] = {
        "Roll a d6": lambda: toast(walk, app, f"d6 toast, {state}"),
        "Roll a d20": lambda: toast(walk, app, f"d20 toast, {state}"),
        "Flip a coin": lambda: toast(walk, app, f"coin toast, {state}"),
        "btn-dice-other": lambda: walk.dialog(app, "dlg-dice", f"other die, {state}"),
        "btn-play-order": play_order,
        "btn-random-start": lambda: toast(walk, app, f"random start toast, {state}"),
        "btn-campaign": lambda: walk.dialog(app, "dlg-campaign", f"campaign panel, {state}"),
        "btn-history": lambda: walk.dialog(app, "dlg-history", f"history, {state}"),
        "menu-undo": undo,
        "btn-rename-game": lambda: walk.dialog(app, "dlg-rename", f"rename, {state}"),
        "btn-listed": listed,
        "btn-end-game": confirm_then_cancel("delete game"),
        "btn-rules": lambda: walk.dialog(app, "dlg-rules", f"table rules, {state}"),
        "btn-concede": confirm_then_cancel("concede"),
    }
    #: rows of buttons, each tapped inside the row: the item's one tap
    rows: dict[str, Callable[[], None]] = {
        # "None": the seat keeps its own colour
        "my-colors": lambda: app.page.click('#my-colors button[data-color=""]'),
    }
    open_more(app)
    walk.check(app, f"More menu, {state}")
    shown = menu_keys(app.page.evaluate(MENU_ITEMS, "#dlg-table .menu-actions button"))
    todo = [k for k in shown if not (only_new and k in walk.menu_items)]
    unknown = [k for k in todo if k not in steps and k not in rows]
    assert unknown == [], f"More menu items this walk does not know: {unknown}; add a step for each"
    for key in todo:
        if not app.page.locator("#dlg-table").is_visible():
            open_more(app)
        if key in rows:
            rows[key]()
            expect(app.page.locator("#dlg-table")).to_be_hidden()
            walk.check(app, f"after {key}, {state}")
            walk.menu_items.add(key)
            continue
        button = app.page.locator(f"#{key}") if key.startswith(("btn-", "menu-")) else None
        if button is None:
            button = app.page.locator("#dlg-table").get_by_role("button", name=key, exact=True)
        button.click()
        expect(app.page.locator("#dlg-table")).to_be_hidden()
        steps[key]()
        walk.menu_items.add(key)
    if app.page.locator("#dlg-table").is_visible():
        dismiss(app.page.locator("#dlg-table"))


def walk_player_menu(walk: Walk, host: App, pid: int, state: str) -> None:
    """The host's menu behind card `pid`'s "…", and each item it offers, put away unused
    (the penalty, which has no question, is added: a warning only)."""
    page = host.page

    def reopen() -> None:
        host.card(pid).locator(".host-menu").click()
        expect(page.locator("#dlg-player")).to_be_visible()

    steps: dict[str, Callable[[], None]] = {
        "pm-penalty": lambda: walk.check(host, f"a penalty given, {state}"),
        "pm-time": lambda: walk.dialog(host, "dlg-time", f"edit time, {state}"),
        # the row's "Other…": the usual amounts are one tap, any other opens the dialog
        "pm-add-row": lambda: walk.dialog(host, "dlg-add-time", f"add time, {state}"),
        "pm-colors": lambda: walk.check(host, f"seat colour kept, {state}"),
        "pm-host": lambda: walk.dialog(host, "dlg-confirm", f"make host asked first, {state}"),
        "pm-move-row": lambda: walk.dialog(host, "dlg-confirm", f"seat move asked first, {state}"),
        "pm-free": lambda: walk.dialog(host, "dlg-confirm", f"free seat asked first, {state}"),
        "pm-revive": lambda: walk.dialog(host, "dlg-confirm", f"revive asked first, {state}"),
        "pm-eliminate": lambda: walk.dialog(host, "dlg-confirm", f"eliminate asked first, {state}"),
        "pm-kick": lambda: walk.dialog(host, "dlg-confirm", f"kick asked first, {state}"),
    }
    reopen()
    walk.check(host, f"player menu, {state}")
    #: the button a row's item taps
    in_row = {
        "pm-add-row": "#pm-add-time",
        "pm-colors": '#pm-colors button[data-color=""]',
        "pm-move-row": "#pm-move-row button[data-to]",
    }
    items = page.evaluate(MENU_ITEMS, "#dlg-player .menu-actions button")
    shown = [k for k in menu_keys(items) if page.locator(in_row.get(k, f"#{k}")).first.is_enabled()]
    unknown = [k for k in shown if k not in steps]
    assert unknown == [], f"player menu items this walk does not know: {unknown}; add a step for each"
    for key in shown:
        if not page.locator("#dlg-player").is_visible():
            reopen()
        page.locator(in_row.get(key, f"#{key}")).first.click()
        steps[key]()
        walk.player_items.add(key)
    if page.locator("#dlg-player").is_visible():
        dismiss(page.locator("#dlg-player"))


def test_every_screen_and_dialog_is_clean_and_passes_the_audit(open_app: OpenApp) -> None:
    walk = Walk()
    # W: a desktop on the home screen, later a spectator; A: the host's phone (a tablet for the
    # table-centre view); B: a player on the smallest phone
    w = walk.device("W", open_app(width=1280, height=800))
    walk.check(w, "home")
    a = walk.device("A", open_app(width=375, height=740))
    page = a.page

    # the create form with every fold open, then its errors
    a.fill_create_form(players=4)
    folds: list[str] = page.eval_on_selector_all("#create-form details", "ds => ds.map((d) => d.id)")
    assert len(folds) >= 2 and "" not in folds, folds
    for fold in folds:
        page.click(f"#{fold} > summary")
        expect(page.locator(f"#{fold}")).to_have_attribute("open", "")
    page.check("#f-timeout-on")
    page.select_option("#f-rules-format", "commander")
    page.fill("#f-game-name", "Screen walk")
    walk.check(a, "create form, every fold open")
    page.select_option("#f-mode", "campaign")
    walk.check(a, "create form, campaign mode")
    page.select_option("#f-mode", "casual")
    page.fill("#f-time", "x")
    page.click("#create-submit")
    expect(page.locator("#e-time")).to_be_visible()
    walk.check(a, "create form with an error")
    page.fill("#f-time", "10")
    page.click("#create-submit")
    expect(a.cards()).to_have_count(4)
    code = page.inner_text("#game-code")

    # the share screen, its QR code drawn
    expect(page.locator("#invite")).to_be_visible()
    page.wait_for_function(
        "() => document.getElementById('share-qr').complete && document.getElementById('share-qr').naturalWidth > 0"
    )
    walk.check(a, "share screen with QR")
    a.claim(1)
    walk.check(a, "waiting, seated")

    # the open games list on another device, joined from there as a spectator
    w.page.click("#btn-lobby-refresh")
    item = w.page.locator(f'#lobby-list .lobby-item[data-game="{code}"]')
    expect(item).to_be_visible()
    walk.check(w, "lobby list")
    item.get_by_role("button", name=f"Join Screen walk ({code})").click()
    expect(w.page.locator("#watching")).to_be_visible()
    walk.check(w, "spectator banner, desktop")

    b = walk.device("B", open_app(f"/?game={code}", width=320, height=640))
    expect(b.page.locator("#watching")).to_be_visible()
    walk.check(b, "spectator banner, 320 px")
    b.page.click("#btn-take-seat")
    expect(b.card(2)).to_have_attribute("data-seat", "mine")
    b.card(2).locator(".extras-toggle").click()
    expect(b.card(2).locator(".cmd-grid")).to_be_visible()
    walk.check(b, "waiting, counters and commander damage open")

    # the host's tools while waiting
    # (nothing to undo yet, so the menu has no undo: it is used once a player has changed something)
    walk_more_menu(walk, a, [b, w], "waiting")
    walk_player_menu(walk, a, 2, "waiting")
    page.click("#btn-settings")
    walk.dialog(a, "dlg-settings", "game settings")
    page.click("#btn-reset")
    walk.dialog(a, "dlg-confirm", "reset asked first")

    # the table-centre view on a tablet, waiting and running, with its QR dialog
    page.set_viewport_size({"width": 1024, "height": 768})
    page.click("#btn-table")
    expect(page.locator("body")).to_have_class(re.compile(r"\btable-mode\b"))
    walk.check(a, "table-centre view, waiting")
    page.click("#btn-qr")
    walk.dialog(a, "dlg-qr", "table-centre QR")
    page.click("#btn-start")
    expect(page.locator("#game")).to_have_attribute("data-status", "running")
    walk.check(a, "table-centre view, running")
    page.click("#btn-table")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\btable-mode\b"))
    page.set_viewport_size({"width": 375, "height": 740})

    # running, on every device
    for app, where in ((a, "host"), (b, "player"), (w, "spectator")):
        expect(app.page.locator("#game")).to_have_attribute("data-status", "running", timeout=SEEN_WITHIN_MS)
        walk.check(app, f"running, {where}")
    # (the play order and the random start chose among the seated: A's 1 and B's 2)
    active = int(last_state(a)["activePlayer"])
    assert active in (1, 2), active
    owner, other = (a, b) if active == 1 else (b, a)
    # an interrupt from the player not on turn, then the target picker of the one on turn
    other.page.click("#btn-interrupt")
    expect(owner.card(3 - active).locator(".mark-priority")).to_be_visible(timeout=SEEN_WITHIN_MS)
    walk.check(owner, "an interrupt holds priority")
    other.page.click("#btn-pass-priority")
    expect(owner.card(3 - active).locator(".mark-priority")).to_be_hidden(timeout=SEEN_WITHIN_MS)
    owner.page.click("#btn-target")
    owner.card(3 - active).locator(".target-btn").click()
    expect(other.card(3 - active).locator(".mark-target")).to_be_visible(timeout=SEEN_WITHIN_MS)
    walk.check(owner, "picking targets")
    walk.check(other, "targeted")
    owner.page.click("#btn-cancel-targets")
    expect(other.card(3 - active).locator(".mark-target")).to_be_hidden(timeout=SEEN_WITHIN_MS)

    # B's own change: the undo toast, then the menus with what running adds
    b.page.get_by_role("button", name="Decrease life of player 2").click()
    expect(b.page.locator("#undo-toast")).to_be_visible()
    walk.check(b, "undo toast")
    expect(a.card(2).locator(".stat-life .stat-value")).to_have_text("39", timeout=SEEN_WITHIN_MS)
    walk_more_menu(walk, a, [b, w], "running", only_new=True)
    walk_more_menu(walk, b, [], "running, player", only_new=True)
    walk_more_menu(walk, w, [], "running, spectator", only_new=True)
    walk_player_menu(walk, a, 2, "running")
    page.click("#btn-pause")
    expect(page.locator("#game")).to_have_attribute("data-status", "paused")
    walk.check(a, "paused")
    page.click("#btn-pause")
    expect(page.locator("#game")).to_have_attribute("data-status", "running")

    # the clock on turn runs out: its player chooses, the others see it pending
    active = int(last_state(a)["activePlayer"])
    owner, other = (a, b) if active == 1 else (b, a)
    a.card(active).locator(".host-menu").click()
    page.click("#pm-time")
    page.fill("#t-time", "1s")
    page.click("#time-form button[type=submit]")
    expect(page.locator("#dlg-time")).to_be_hidden()
    expect(owner.page.locator("#dlg-timeout")).to_be_visible(timeout=4_000)
    walk.check(owner, "timeout choice")
    expect(other.card(active).locator(".mark-timeout")).to_be_visible(timeout=SEEN_WITHIN_MS)
    walk.check(other, "a timeout choice pending")
    walk.check(w, "a timeout choice pending, spectator")
    owner.page.click("#tc-lives")
    expect(owner.page.locator("#dlg-timeout")).to_be_hidden(timeout=SEEN_WITHIN_MS)

    # the end: the victory overlay on every device, then the summary under it
    for pid in (4, 3, 2):
        a.card(pid).locator(".host-menu").click()
        page.click("#pm-eliminate")
        page.click("#confirm-ok")
        expect(a.card(pid)).to_have_class(ELIMINATED, timeout=SEEN_WITHIN_MS)
    for app, where in ((a, "host"), (b, "loser"), (w, "spectator")):
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
        walk.check(app, f"victory overlay, {where}")
        app.page.click("#btn-victory-close")
        expect(app.page.locator("#game-summary")).to_be_visible()
        walk.check(app, f"end-of-game summary, {where}")
    # an eliminated seat's menu offers its revival
    walk_player_menu(walk, a, 2, "finished")
    walk_more_menu(walk, a, [b, w], "finished", only_new=True)

    # home again with the recent games, then a campaign's panel
    page.click("#btn-leave")
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("#recent")).to_be_visible()
    walk.check(a, "home with recent games")
    page.select_option("#f-mode", "campaign")
    page.click("#create-submit")
    expect(page.locator("#campaign-line")).to_be_visible()
    walk_more_menu(walk, a, [], "campaign", only_new=True)

    # nothing was left out: every dialog in the page (index.html's and the modules'), every
    # item of the More menu and of the player menu
    in_page = set(page.eval_on_selector_all("dialog", "ds => ds.map((d) => d.id)"))
    assert "" not in in_page, "a <dialog> without an id"
    in_index = set(re.findall(r'<dialog id="([^"]+)"', INDEX.read_text()))
    assert in_index and in_index <= in_page
    assert sorted(in_page - walk.dialogs) == [], "dialogs never opened"
    menu = {i["key"] for i in page.evaluate(MENU_ITEMS, "#dlg-table .menu-actions button")}
    assert sorted(menu - walk.menu_items) == [], "More menu items never used"
    player = {i["key"] for i in page.evaluate(MENU_ITEMS, "#dlg-player .menu-actions button")}
    assert sorted(player - walk.player_items) == [], "player menu items never used"
    assert len(walk.screens) >= 70, walk.screens
