"""Issue 14's done-when: a four-player Commander game played from create to winner on four
phones (390x844) and a tablet in the middle of the table (1024x768, table view on), every
playgroup action reachable in two taps or fewer from the game screen at rest.

The tablet is a spectator: it opens the shared link like the phones and turns table view on,
but takes no seat and holds no host rights. That is what a real table does with it. It lies
where every hand can reach it, so it must not be able to pass a turn, change a life or
eliminate anyone when someone leans on it. The host plays on their own phone, as everyone
else does, and the tablet only shows the game from the middle, facing each seat.

After every step, each of the five devices must show exactly what the server last sent
(its newest `state` from `App.received`): every card's life, poison, commander damage cells,
active and eliminated marks and the loss reason, and the turn and round. Every action goes
through `Taps.act`, which counts the trusted pointer presses the page received for it and
fails if it took more than two, or if it started with a dialog open. A destructive action
takes its confirm as one more tap, and only on `#confirm-ok`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.static.conftest import OpenApp
from tests.support.page import App

pytestmark = pytest.mark.slow

PHONE = (390, 844)
TABLET = (1024, 768)
SEEN_WITHIN_MS = 2_000
MAX_TAPS = 2

#: Records every trusted pointer press (a person's tap or click) with what it landed on.
COUNT_TAPS = """() => {
  if (window.__taps) return;
  window.__taps = [];
  document.addEventListener('pointerdown', (e) => {
    if (!e.isTrusted) return;
    const t = e.target instanceof Element ? e.target : null;
    const el = t ? (t.closest('button, input, summary, [role="button"]') ?? t) : null;
    const name = el ? (el.getAttribute('aria-label') || el.className || el.tagName) : '?';
    window.__taps.push(el && el.id ? `#${el.id}` : name);
  }, { capture: true });
}"""

#: What a device shows of every card and of the turn counters.
SHOWN = """() => {
  const cards = {};
  for (const c of document.querySelectorAll('#board .card')) {
    const cmd = {};
    for (const td of c.querySelectorAll('.cmd-cell')) {
      cmd[`${td.dataset.source}.${td.dataset.partner}`] = td.querySelector('.cmd-value').textContent;
    }
    cards[c.dataset.player] = {
      life: c.querySelector('.stat-life .stat-value').textContent,
      active: c.classList.contains('active'),
      out: c.classList.contains('eliminated'),
      reason: c.dataset.outReason ?? '',
      poison: c.querySelector('.sum-poison .sum-value').textContent,
      cmd,
    };
  }
  const turn = document.getElementById('turn-round');
  return { cards, turn: turn.hidden ? '' : turn.querySelector('.hide-narrow').textContent };
}"""


def latest_state(apps: list[App]) -> dict[str, Any]:
    states = [f["data"] for app in apps for f in app.received if f.get("type") == "state"]
    return max(states, key=lambda s: int(s["version"]))


def expected(st: dict[str, Any]) -> dict[str, Any]:
    cards = {}
    for p in st["players"]:
        cards[str(p["id"])] = {
            "life": str(p["life"]),
            "active": st["status"] != "finished" and st["activePlayer"] == p["id"],
            "out": p["isEliminated"],
            "reason": (p["eliminatedReason"] or "") if p["isEliminated"] else "",
            "poison": str(p["poison"]),
            "cmd": {
                f"{source}.{partner}": str(n)
                for source, pair in enumerate(p["commanderDamage"], start=1)
                for partner, n in enumerate(pair)
                if source != p["id"]
            },
        }
    running = st["status"] in ("running", "paused") and st.get("turn")
    return {"cards": cards, "turn": f"Turn {st['turn']} · Round {st['round']}" if running else ""}


class Table:
    """The five devices; `act` performs one playgroup action and counts its taps."""

    def __init__(self, phones: list[App], tablet: App) -> None:
        self.phones = phones
        self.tablet = tablet
        self.apps = [*phones, tablet]
        self.counted: list[tuple[str, list[str]]] = []
        for app in self.apps:
            app.page.evaluate(COUNT_TAPS)

    def phone(self, seat: int) -> App:
        return self.phones[seat - 1]

    @contextmanager
    def act(self, app: App, what: str, confirm: bool = False) -> Iterator[None]:
        page = app.page
        assert page.locator("dialog[open]").count() == 0, f"{what}: not from the resting game screen"
        start = int(page.evaluate("window.__taps.length"))
        yield
        taps: list[str] = page.evaluate("(n) => window.__taps.slice(n)", start)
        reach = taps
        if confirm:
            assert taps[-1:] == ["#confirm-ok"], (what, taps)
            reach = taps[:-1]
        assert 1 <= len(reach) <= MAX_TAPS, (what, taps)
        self.counted.append((what, taps))

    def state(self, check: Callable[[dict[str, Any]], bool] = lambda st: True) -> dict[str, Any]:
        """The server's newest state once `check` holds for it, and every device showing it."""
        waited = 0
        while True:
            st = latest_state(self.apps)
            want = expected(st)
            shown = [app.page.evaluate(SHOWN) for app in self.apps]
            if check(st) and all(s == want for s in shown):
                return st
            if waited > SEEN_WITHIN_MS:
                wrong = {i: s for i, s in enumerate(shown) if s != want}
                raise AssertionError(f"check={check(st)}; the server's: {want}\nshown otherwise: {wrong}")
            self.apps[0].page.wait_for_timeout(25)
            waited += 25

    def after(self, version: int, check: Callable[[dict[str, Any]], bool] = lambda st: True) -> dict[str, Any]:
        return self.state(lambda st: int(st["version"]) > version and check(st))

    def pass_turn(self) -> dict[str, Any]:
        st = latest_state(self.apps)
        active = self.phone(st["activePlayer"])
        with self.act(active, "pass the turn"):
            active.page.click("#btn-pass")
        return self.after(st["version"], lambda s: s["turn"] == st["turn"] + 1)


def player(st: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in st["players"] if p["id"] == pid)


def has(pid: int, field: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda st: bool(player(st, pid)[field] == value)


def responded(pid: int) -> Callable[[dict[str, Any]], bool]:
    return lambda st: pid not in st["awaitingPriority"]


def frames(app: App, mtype: str) -> list[dict[str, Any]]:
    return [f["data"] for f in app.received if f.get("type") == mtype]


def test_a_commander_game_from_create_to_winner_on_four_phones_and_a_table_tablet(open_app: OpenApp) -> None:
    # -- create (Commander on the form), share the link, take the seats -------------------------
    host = open_app("/", *PHONE)
    host.fill_create_form(players=4, time_each="20")
    host.page.click("#rules-create > summary")
    host.page.select_option("#f-rules-format", "commander")
    host.page.click("#create-submit")
    expect(host.cards()).to_have_count(4)
    link = host.share_link()
    code = host.page.inner_text("#game-code")
    assert link.endswith(f"/?game={code}")
    path = link[link.index("/?game=") :]
    phones = [host] + [open_app(path, *PHONE) for _ in range(3)]
    tablet = open_app(path, *TABLET)
    table = Table(phones, tablet)
    for seat, phone in enumerate(phones, start=1):
        expect(phone.page.locator("#game-code")).to_have_text(code)
        with table.act(phone, f"take seat {seat}"):
            phone.claim(seat)
    st = table.state(lambda s: all(p["claimedBy"] for p in s["players"]))
    assert st["settings"]["format"] == "commander" and [p["life"] for p in st["players"]] == [40] * 4
    expect(tablet.page.locator("#watching-text")).to_have_text("You are watching. Every seat is taken.")
    with table.act(tablet, "table view"):
        tablet.page.click("#btn-table")
    expect(tablet.page.locator("body")).to_have_class("table-mode")
    # the tablet passes nothing and changes nothing: it is nobody's
    expect(tablet.page.locator("#btn-start")).to_be_disabled()
    expect(tablet.page.locator("#board .life-step:visible")).to_have_count(0)

    # -- the host rolls the play order: every device shows the server's rolls ---------------
    with table.act(host, "roll the play order", confirm=True):
        host.page.click("#btn-more")
        host.page.click("#btn-play-order")
        host.page.click("#confirm-ok")
    for app in table.apps:
        expect(app.page.locator("#dlg-play-order")).to_be_visible(timeout=SEEN_WITHIN_MS)
        (rolled,) = frames(app, "playOrderRolled")
        order = rolled["newOrder"]
        assert sorted(order) == [1, 2, 3, 4]
        expect(app.page.locator("#dlg-play-order")).to_have_attribute("data-order", ",".join(map(str, order)))
        app.page.click("#btn-order-close")
        expect(app.page.locator("#dlg-play-order")).to_be_hidden()
    st = table.state(lambda s: s["activePlayer"] == order[0])

    # -- start, and a round of turns with the Pass turn button -----------------------------------
    with table.act(host, "start"):
        host.page.click("#btn-start")
    st = table.after(st["version"], lambda s: s["status"] == "running" and s["turn"] == 1)
    assert (st["turn"], st["round"], st["activePlayer"]) == (1, 1, order[0])
    actives = [table.pass_turn()["activePlayer"] for _ in range(4)]
    assert actives == [*order[1:], order[0]]
    st = latest_state(table.apps)
    assert (st["turn"], st["round"]) == (5, 2)
    expect(tablet.page.locator("#btn-pass")).to_be_hidden()

    # -- life: ±1, ±5 and a typed value, on seat 2's own card ---------------------------------
    b = table.phone(2)
    for label, life in (
        ("Decrease life of player 2", 39),
        ("Add 5 to the life of player 2", 44),
        ("Take 5 from the life of player 2", 39),
        ("Increase life of player 2", 40),
    ):
        with table.act(b, label):
            b.page.get_by_role("button", name=label, exact=True).click()
        st = table.after(st["version"], has(2, "life", life))
    with table.act(b, "type a life"):
        b.card(2).locator(".life-value").click()
        b.card(2).locator(".life-input").fill("33")
        b.card(2).locator(".life-input").press("Enter")
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 33)

    # -- undo one's own action from its toast ----------------------------------------------------
    with table.act(b, "lose one life"):
        b.page.get_by_role("button", name="Decrease life of player 2", exact=True).click()
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 32)
    expect(b.page.locator("#undo-toast .toast-text")).to_have_text("Player 2's life set to 32")
    with table.act(b, "undo from the toast"):
        b.page.click("#toast-undo")
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 33)
    for app in table.apps:
        expect(app.page.locator("#notice-text")).to_have_text("Player 2 undid the last action.")

    # -- poison on seat 3 (the counters open once, then stay open) -------------------------------
    c = table.phone(3)
    for n in (1, 2):
        with table.act(c, f"poison {n}"):
            if not c.card(3).locator(".extras").is_visible():
                c.card(3).locator(".extras-toggle").click()
            c.page.get_by_role("button", name="Increase poison of player 3", exact=True).click()
        st = table.after(st["version"], has(3, "poison", n))

    # -- an interrupt, then pass priority ----------------------------------------------------------
    holder = next(pid for pid in order if pid != st["activePlayer"])
    x = table.phone(holder)
    with table.act(x, "interrupt"):
        x.page.click("#btn-interrupt")
    st = table.after(st["version"], lambda s: s["interruptingPlayers"] == [holder])
    for app in table.apps:
        expect(app.card(holder).locator(".mark-priority")).to_have_text("Priority")
        expect(app.page.locator("#btn-pass")).to_be_hidden()
    with table.act(x, "pass priority"):
        x.page.click("#btn-pass-priority")
    st = table.after(st["version"], lambda s: s["interruptingPlayers"] == [])
    for app in table.apps:
        expect(app.card(holder).locator(".turn-marks")).to_be_hidden()

    # -- a targeting round: the active player targets two others, each responds ----------------
    active = st["activePlayer"]
    p = table.phone(active)
    targets = [pid for pid in order if pid != active][:2]
    with table.act(p, f"target player {targets[0]}"):
        p.page.click("#btn-target")
        p.card(targets[0]).locator(".target-btn").click()
    st = table.after(st["version"], lambda s: s["targetedPlayers"] == targets[:1])
    with table.act(p, f"target player {targets[1]}"):
        p.card(targets[1]).locator(".target-btn").click()
    st = table.after(st["version"], lambda s: sorted(s["targetedPlayers"]) == sorted(targets))
    with table.act(p, "confirm the targets"):
        p.page.click("#btn-confirm-targets")
    st = table.after(st["version"], lambda s: s["targetingState"] == "resolving")
    assert sorted(st["awaitingPriority"]) == sorted(targets)
    for app in table.apps:
        for pid in targets:
            expect(app.card(pid).locator(".mark-target")).to_have_text("Responding")
        expect(app.card(active).locator(".mark-target")).to_have_text("Targeting")
    for pid in targets:
        with table.act(table.phone(pid), f"player {pid} responds"):
            table.phone(pid).page.click("#btn-respond")
        st = table.after(st["version"], responded(pid))
    st = table.state(lambda s: s["targetingState"] == "none" and s["activePlayer"] == active)
    for app in table.apps:
        for pid in (1, 2, 3, 4):
            expect(app.card(pid).locator(".turn-marks")).to_be_hidden()

    # -- a d20 from seat 2: everyone sees the server's roll -----------------------------------
    with table.act(b, "roll a d20"):
        b.page.click("#btn-more")
        b.page.locator("#dice-row").get_by_role("button", name="Roll a d20", exact=True).click()
    for app in table.apps:
        expect(app.page.locator("#tools-toast")).to_be_visible(timeout=SEEN_WITHIN_MS)
        (d,) = frames(app, "diceRolled")
        assert d["playerName"] == "Player 2" and d["sides"] == 20 and 1 <= d["result"] <= 20
        expect(app.page.locator("#tools-toast .toast-value")).to_have_text(str(d["result"]))
    assert len({frames(app, "diceRolled")[0]["result"] for app in table.apps}) == 1

    # -- commander damage on seat 4, partner included; 21 from one commander knocks them out ------
    d4 = table.phone(4)
    hit = d4.page.get_by_role("button", name="Increase commander damage to player 4 from Player 1", exact=True)
    for n in range(1, 21):
        with table.act(d4, f"commander damage {n}"):
            if not d4.card(4).locator(".extras").is_visible():
                d4.card(4).locator(".extras-toggle").click()
            hit.click()
        if n in (1, 20):
            st = table.after(st["version"], has(4, "commanderDamage", [[n, 0], [0, 0], [0, 0], [0, 0]]))
    assert player(st, 4)["life"] == 20
    with table.act(d4, "partner commander damage"):
        d4.page.get_by_role(
            "button", name="Increase partner commander damage to player 4 from Player 2", exact=True
        ).click()
    st = table.after(st["version"], lambda s: player(s, 4)["commanderDamage"][1] == [0, 1])
    assert player(st, 4)["life"] == 19 and not player(st, 4)["isEliminated"]

    # -- a concede (confirmed), then the 21st from player 1's commander ---------------------------
    with table.act(c, "concede", confirm=True):
        c.page.click("#btn-more")
        c.page.click("#btn-concede")
        c.page.click("#confirm-ok")
    st = table.after(st["version"], lambda s: player(s, 3)["eliminatedReason"] == "concede")
    for app in table.apps:
        expect(app.card(3).locator(".out-reason")).to_have_text("Out: conceded")
    with table.act(d4, "commander damage 21"):
        hit.click()
    st = table.after(st["version"], lambda s: player(s, 4)["eliminatedReason"] == "commanderDamage")
    for app in table.apps:
        expect(app.card(4).locator(".out-reason")).to_have_text("Out: commander damage")
    assert st["status"] == "running"

    # -- seat 2 types 0 life: player 1 wins, on every phone and on the tablet ----------------------
    with table.act(b, "type life 0"):
        b.card(2).locator(".life-value").click()
        b.card(2).locator(".life-input").fill("0")
        b.card(2).locator(".life-input").press("Enter")
    st = table.after(st["version"], lambda s: s["status"] == "finished")
    assert st["winner"] == 1 and player(st, 2)["eliminatedReason"] == "life"
    for app in table.apps:
        (done,) = frames(app, "gameComplete")
        assert (done["winnerId"], done["winnerName"]) == (1, "Player 1")
        expect(app.page.locator("#dlg-victory")).to_be_visible(timeout=SEEN_WITHIN_MS)
        expect(app.page.locator("#summary-title")).to_have_text("Player 1 wins")
        for pid, out in ((1, "winner"), (2, "life"), (3, "conceded"), (4, "commander damage")):
            expect(app.page.locator(f'#dlg-victory tr[data-player="{pid}"] .summary-out')).to_have_text(out)

    # every action above went through `act`, within two taps (and a confirm for the concede)
    assert len(table.counted) == 52, [what for what, _ in table.counted]
    confirmed = ("concede", "roll the play order")
    assert max(len(taps) for what, taps in table.counted if what not in confirmed) == MAX_TAPS
