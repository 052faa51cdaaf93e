"""Issue 14's done-when: a four-player Commander game played from create to winner on four
phones (390x844) and a tablet in the middle of the table (1024x768, table view on), every
playgroup action reachable in two taps or fewer from the game screen at rest.

The tablet is a spectator: it opens the shared link like the phones and turns table view on,
but takes no seat and holds no host rights. That is what a real table does with it. It lies
where every hand can reach it, so it must not be able to pass a turn, change a life or
eliminate anyone when someone leans on it. The host plays on their own phone, as everyone
else does, and the tablet only shows the game from the middle, facing each seat.

`PLAYGROUP` is the claim made explicit: every action a playgroup needs, from seating and
colours through turns, life, counters, priority, targets, dice, the timeout choice and the
host's tools to handing the host role over and conceding. Every action goes through
`Table.act`, named by its entry there, which counts the trusted pointer presses the page
received for it and fails if it took more than two, or if it started with a dialog open (the
timeout choice alone starts in the dialog the server's timeout opened). A destructive action
takes its confirm as one more tap, and only on `#confirm-ok`. The end checks that every entry
was performed.

After every step, each of the five devices must show exactly what the server last sent
(its newest `state` from `App.received`): every card's life, poison, commander damage cells,
active and eliminated marks and the loss reason, and the turn and round. Seats change hands
during the game (a freed seat, a moved player, a kick), so a seat's phone is looked up from
the server's `claimedBy` each time, never assumed.
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

#: Every action a playgroup needs in a game, as `Table.act` names them.
PLAYGROUP = (
    "take a seat",
    "table view",
    "colour one's own seat",
    "colour a seat (host)",
    "free a seat (host)",
    "move a player to another seat (host)",
    "choose who starts",
    "roll the play order (host)",
    "random start player (host)",
    "start",
    "pass the turn",
    "pause",
    "resume",
    "life ±1",
    "life ±5",
    "type a life",
    "undo one's own action",
    "poison",
    "energy",
    "experience",
    "commander damage",
    "partner commander damage",
    "interrupt",
    "pass priority",
    "target a player",
    "confirm the targets",
    "respond to a target",
    "cancel targeting",
    "roll a die",
    "flip a coin",
    "penalty (host)",
    "eliminate (host)",
    "undo (host)",
    "history",
    "kick (host)",
    "revive (host)",
    "take a free seat while watching",
    "hand over the host role (host)",
    "add time (host)",
    "set a clock (host)",
    "timeout choice",
    "concede",
)

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
        self.counted: list[tuple[str, str, list[str]]] = []
        for app in self.apps:
            app.page.evaluate(COUNT_TAPS)

    def phone(self, seat: int) -> App:
        """The phone holding `seat` now, by the server's newest state."""
        holder = player(latest_state(self.apps), seat)["claimedBy"]
        found = [app for app in self.phones if client_id(app) == holder]
        assert len(found) == 1, f"seat {seat}: held by {holder}, phones {[client_id(a) for a in self.phones]}"
        return found[0]

    @contextmanager
    def act(
        self, app: App, what: str, detail: str = "", confirm: bool = False, prompt: str | None = None
    ) -> Iterator[None]:
        """`what` is the action's PLAYGROUP entry; `prompt` the one dialog the server may have
        opened for it (the timeout choice)."""
        assert what in PLAYGROUP, what
        page = app.page
        opened = page.locator("dialog[open]")
        if prompt is None:
            assert opened.count() == 0, f"{what}: not from the resting game screen"
        else:
            expect(opened).to_have_count(1)
            expect(page.locator(prompt)).to_be_visible()
        start = int(page.evaluate("window.__taps.length"))
        yield
        taps: list[str] = page.evaluate("(n) => window.__taps.slice(n)", start)
        reach = taps
        if confirm:
            assert taps[-1:] == ["#confirm-ok"], (what, detail, taps)
            reach = taps[:-1]
        assert 1 <= len(reach) <= MAX_TAPS, (what, detail, taps)
        self.counted.append((what, detail, taps))

    def reach(self, what: str) -> int:
        """The most taps `what` took to reach (its confirm's tap aside)."""
        return max(len(taps) - (taps[-1:] == ["#confirm-ok"]) for w, _, taps in self.counted if w == what)

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
        with self.act(active, "pass the turn", f"turn {st['turn']}"):
            active.page.click("#btn-pass")
        return self.after(st["version"], lambda s: s["turn"] == st["turn"] + 1)

    def host_menu(self, app: App, seat: int) -> None:
        """The first tap of every host action on a seat: the card's "…"."""
        app.card(seat).locator(".host-menu").click()
        expect(app.page.locator("#dlg-player")).to_be_visible()


def player(st: dict[str, Any], pid: int) -> dict[str, Any]:
    return next(p for p in st["players"] if p["id"] == pid)


def has(pid: int, field: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda st: bool(player(st, pid)[field] == value)


def responded(pid: int) -> Callable[[dict[str, Any]], bool]:
    return lambda st: pid not in st["awaitingPriority"]


def frames(app: App, mtype: str) -> list[dict[str, Any]]:
    return [f["data"] for f in app.received if f.get("type") == mtype]


def client_id(app: App) -> str:
    return str(frames(app, "clientId")[-1]["clientId"])


def test_a_commander_game_from_create_to_winner_on_four_phones_and_a_table_tablet(open_app: OpenApp) -> None:
    # -- create (Commander and the timeout choice on the form), share the link, take the seats --
    host = open_app("/", *PHONE)
    host.fill_create_form(players=4, time_each="20")
    host.page.click("#rules-create > summary")
    host.page.select_option("#f-rules-format", "commander")
    host.page.click("#timeout-create > summary")
    host.page.check("#f-timeout-on")
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
        with table.act(phone, "take a seat", f"seat {seat}"):
            phone.claim(seat)
    st = table.state(lambda s: all(p["claimedBy"] for p in s["players"]))
    assert st["settings"]["format"] == "commander" and [p["life"] for p in st["players"]] == [40] * 4
    assert all(p["timeoutPending"] is False for p in st["players"])
    expect(tablet.page.locator("#watching-text")).to_have_text("You are watching. Every seat is taken.")
    with table.act(tablet, "table view"):
        tablet.page.click("#btn-table")
    expect(tablet.page.locator("body")).to_have_class("table-mode")
    # the tablet passes nothing and changes nothing: it is nobody's
    expect(tablet.page.locator("#btn-start")).to_be_disabled()
    expect(tablet.page.locator("#board .life-step:visible")).to_have_count(0)

    # -- colours: a player's own from More, another seat's from the host's seat menu -----------
    b = table.phone(2)
    with table.act(b, "colour one's own seat"):
        b.page.click("#btn-more")
        b.page.locator("#my-colors").get_by_role("button", name="Teal", exact=True).click()
    st = table.after(st["version"], has(2, "color", "teal"))
    with table.act(host, "colour a seat (host)", "seat 3"):
        table.host_menu(host, 3)
        host.page.locator("#pm-colors").get_by_role("button", name="Indigo", exact=True).click()
    st = table.after(st["version"], has(3, "color", "indigo"))
    for app in table.apps:
        expect(app.card(2)).to_have_attribute("data-color", "teal")
        expect(app.card(3)).to_have_attribute("data-color", "indigo")

    # -- the host frees seat 3, moves seat 4's player to it, and the freed phone takes seat 4 ----
    c, d = table.phone(3), table.phone(4)
    with table.act(host, "free a seat (host)", "seat 3", confirm=True):
        table.host_menu(host, 3)
        host.page.click("#pm-free")
        host.page.click("#confirm-ok")
    st = table.after(st["version"], has(3, "claimedBy", None))
    expect(c.page.locator("#watching")).to_be_visible()
    with table.act(host, "move a player to another seat (host)", "4 to 3", confirm=True):
        table.host_menu(host, 4)
        host.page.get_by_role("button", name="Move Player 4 to seat 3 (Player 3)", exact=True).click()
        host.page.click("#confirm-ok")
    st = table.after(st["version"], lambda s: player(s, 4)["claimedBy"] is None)
    assert table.phone(3) is d
    with table.act(c, "take a seat", "the freed phone takes seat 4"):
        c.claim(4)
    st = table.after(st["version"], lambda s: all(p["claimedBy"] for p in s["players"]))
    assert table.phone(4) is c
    # each seat kept its own colour: the person moved, not the seat
    assert [p["color"] for p in st["players"]] == [None, "teal", "indigo", None]

    # -- who starts: a tap on a card, then the play order roll, then a random start -----------
    with table.act(b, "choose who starts", "a tap on one's card while waiting"):
        b.card(2).locator(".clock").click()
    st = table.after(st["version"], lambda s: s["activePlayer"] == 2)
    with table.act(host, "roll the play order (host)", confirm=True):
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
    st = table.state(lambda s: s["activePlayer"] == order[0] and [p["id"] for p in s["players"]] == order)
    with table.act(host, "random start player (host)"):
        host.page.click("#btn-more")
        host.page.click("#btn-random-start")
    for app in table.apps:
        expect(app.page.locator("#tools-toast")).to_have_attribute("data-kind", "start", timeout=SEEN_WITHIN_MS)
    (drawn,) = frames(host, "randomPlayerSelected")
    first = drawn["playerId"]
    st = table.state(lambda s: s["activePlayer"] == first)

    # -- start, and a round of turns with the Pass turn button -----------------------------------
    with table.act(host, "start"):
        host.page.click("#btn-start")
    st = table.after(st["version"], lambda s: s["status"] == "running" and s["turn"] == 1)
    assert (st["turn"], st["round"], st["activePlayer"]) == (1, 1, first)
    actives = [table.pass_turn()["activePlayer"] for _ in range(4)]
    at = order.index(first)
    assert actives == [order[(at + i) % 4] for i in range(1, 5)]
    st = latest_state(table.apps)
    assert (st["turn"], st["round"]) == (5, 2)
    expect(tablet.page.locator("#btn-pass")).to_be_hidden()

    # -- pause and resume, from two different phones ---------------------------------------------
    with table.act(table.phone(3), "pause"):
        table.phone(3).page.click("#btn-pause")
    st = table.after(st["version"], lambda s: s["status"] == "paused")
    with table.act(table.phone(4), "resume"):
        table.phone(4).page.click("#btn-pause")
    st = table.after(st["version"], lambda s: s["status"] == "running")

    # -- life: ±1, ±5 and a typed value, on seat 2's own card ---------------------------------
    for label, life, what in (
        ("Decrease life of player 2", 39, "life ±1"),
        ("Add 5 to the life of player 2", 44, "life ±5"),
        ("Take 5 from the life of player 2", 39, "life ±5"),
        ("Increase life of player 2", 40, "life ±1"),
    ):
        with table.act(b, what, label):
            b.page.get_by_role("button", name=label, exact=True).click()
        st = table.after(st["version"], has(2, "life", life))
    with table.act(b, "type a life"):
        b.card(2).locator(".life-value").click()
        b.card(2).locator(".life-input").fill("33")
        b.card(2).locator(".life-input").press("Enter")
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 33)

    # -- undo one's own action from its toast ----------------------------------------------------
    with table.act(b, "life ±1", "lose one life"):
        b.page.get_by_role("button", name="Decrease life of player 2", exact=True).click()
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 32)
    expect(b.page.locator("#undo-toast .toast-text")).to_have_text("Player 2's life set to 32")
    with table.act(b, "undo one's own action"):
        b.page.click("#toast-undo")
    st = table.after(st["version"], lambda s: player(s, 2)["life"] == 33)
    for app in table.apps:
        expect(app.page.locator("#notice-text")).to_have_text("Player 2 undid the last action.")

    # -- poison on seat 3 (the counters open once, then stay open); energy, experience on seat 1 -
    c3 = table.phone(3)
    for n in (1, 2):
        with table.act(c3, "poison", str(n)):
            if not c3.card(3).locator(".extras").is_visible():
                c3.card(3).locator(".extras-toggle").click()
            c3.page.get_by_role("button", name="Increase poison of player 3", exact=True).click()
        st = table.after(st["version"], has(3, "poison", n))
    for field in ("energy", "experience"):
        with table.act(host, field):
            if not host.card(1).locator(".extras").is_visible():
                host.card(1).locator(".extras-toggle").click()
            host.page.get_by_role("button", name=f"Increase {field} of player 1", exact=True).click()
        st = table.after(st["version"], has(1, field, 1))
    for app in table.apps:
        expect(app.card(1).locator(".sum-energy .sum-value")).to_have_text("1")
        expect(app.card(1).locator(".sum-experience .sum-value")).to_have_text("1")

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

    # -- targeting: a target picked and the targeting cancelled, then a round the targets answer -
    active = st["activePlayer"]
    p = table.phone(active)
    targets = [pid for pid in order if pid != active][:2]
    with table.act(p, "target a player", f"player {targets[0]}, to cancel"):
        p.page.click("#btn-target")
        p.card(targets[0]).locator(".target-btn").click()
    st = table.after(st["version"], lambda s: s["targetedPlayers"] == targets[:1])
    with table.act(p, "cancel targeting"):
        p.page.click("#btn-cancel-targets")
    st = table.after(st["version"], lambda s: s["targetingState"] == "none" and s["targetedPlayers"] == [])
    expect(p.page.locator("#btn-cancel-targets")).to_be_hidden()
    with table.act(p, "target a player", f"player {targets[0]}"):
        p.page.click("#btn-target")
        p.card(targets[0]).locator(".target-btn").click()
    st = table.after(st["version"], lambda s: s["targetedPlayers"] == targets[:1])
    with table.act(p, "target a player", f"player {targets[1]}"):
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
        with table.act(table.phone(pid), "respond to a target", f"player {pid}"):
            table.phone(pid).page.click("#btn-respond")
        st = table.after(st["version"], responded(pid))
    st = table.state(lambda s: s["targetingState"] == "none" and s["activePlayer"] == active)
    for app in table.apps:
        for pid in (1, 2, 3, 4):
            expect(app.card(pid).locator(".turn-marks")).to_be_hidden()

    # -- a d20 from seat 2 and a coin from seat 4: everyone sees the server's results -----------
    for app_, what, name, sides, who in (
        (b, "roll a die", "Roll a d20", 20, "Player 2"),
        (table.phone(4), "flip a coin", "Flip a coin", 2, "Player 4"),
    ):
        seen = {id(app): len(frames(app, "diceRolled")) for app in table.apps}
        with table.act(app_, what):
            app_.page.click("#btn-more")
            app_.page.locator("#dice-row").get_by_role("button", name=name, exact=True).click()
        results = set()
        for app in table.apps:
            expect(app.page.locator("#tools-toast")).to_have_attribute("data-sides", str(sides), timeout=SEEN_WITHIN_MS)
            rolls = frames(app, "diceRolled")
            assert len(rolls) == seen[id(app)] + 1
            roll = rolls[-1]
            assert roll["playerName"] == who and roll["sides"] == sides and 1 <= roll["result"] <= sides
            results.add(roll["result"])
        assert len(results) == 1
    for app in table.apps:
        app.page.click("#btn-toast-close")

    # -- the host: a penalty, an elimination taken back with the host's undo, the history --------
    bystander = next(pid for pid in (3, 4, 2) if pid != st["activePlayer"])
    with table.act(host, "penalty (host)", f"player {bystander}"):
        table.host_menu(host, bystander)
        host.page.click("#pm-penalty")
    st = table.after(st["version"], has(bystander, "penalties", player(st, bystander)["penalties"] + 1))
    with table.act(host, "eliminate (host)", f"player {bystander}", confirm=True):
        table.host_menu(host, bystander)
        host.page.click("#pm-eliminate")
        host.page.click("#confirm-ok")
    st = table.after(st["version"], has(bystander, "eliminatedReason", "host"))
    with table.act(host, "undo (host)", "the elimination"):
        host.page.click("#btn-more")
        host.page.click("#menu-undo")
    st = table.after(st["version"], has(bystander, "isEliminated", False))
    for app in table.apps:
        expect(app.page.locator("#notice-text")).to_have_text("Player 1 (host) undid the last action.")
    with table.act(host, "history"):
        host.page.click("#btn-more")
        host.page.click("#btn-history")
    entries = host.page.locator("#dlg-history .history-entry")
    expect(entries.first).to_contain_text("Player 1 (host) undid")
    expect(entries.nth(1)).to_contain_text("eliminated a player")
    host.page.locator("#dlg-history").get_by_role("button", name="Close").click()

    # -- a kick, the revive, and the kicked phone takes its seat back from the watching banner ---
    kicked = table.phone(bystander)
    with table.act(host, "kick (host)", f"player {bystander}", confirm=True):
        table.host_menu(host, bystander)
        host.page.click("#pm-kick")
        host.page.click("#confirm-ok")
    st = table.after(st["version"], has(bystander, "eliminatedReason", "kicked"))
    assert player(st, bystander)["claimedBy"] is None
    expect(kicked.page.locator("#watching")).to_be_visible()
    with table.act(host, "revive (host)", f"player {bystander}", confirm=True):
        table.host_menu(host, bystander)
        host.page.click("#pm-revive")
        host.page.click("#confirm-ok")
    st = table.after(st["version"], has(bystander, "isEliminated", False))
    expect(kicked.page.locator("#btn-take-seat-label")).to_have_text(f"Take seat {bystander} (Player {bystander})")
    with table.act(kicked, "take a free seat while watching"):
        kicked.page.click("#btn-take-seat")
    st = table.after(st["version"], lambda s: player(s, bystander)["claimedBy"] == client_id(kicked))
    expect(kicked.page.locator("#watching")).to_be_hidden()

    # -- the host hands the role to seat 2, whose phone then runs the host's tools --------------
    with table.act(host, "hand over the host role (host)", "to seat 2", confirm=True):
        table.host_menu(host, 2)
        host.page.click("#pm-host")
        host.page.click("#confirm-ok")
    st = table.after(st["version"], lambda s: s["hostSeat"] == 2)
    expect(b.page.locator("#host-controls")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(host.page.locator("#host-controls")).to_be_hidden()
    expect(host.card(2).locator(".host-menu")).to_be_hidden()
    waiting = next(pid for pid in (3, 4, 1) if pid != st["activePlayer"])
    had = player(st, waiting)["timeRemaining"]
    with table.act(b, "add time (host)", f"5 minutes for player {waiting}"):
        table.host_menu(b, waiting)
        b.page.click('#pm-add-row [data-minutes="5"]')
    st = table.after(st["version"], lambda s: player(s, waiting)["timeRemaining"] == had + 300_000)

    # -- the new host sets the active player's clock to a second; its timeout offers the choice -
    victim = st["activePlayer"]
    lives = player(st, victim)["life"]
    with table.act(b, "set a clock (host)", f"player {victim} to 1 s"):
        table.host_menu(b, victim)
        b.page.click("#pm-time")
        b.page.fill("#t-time", "1s")
        b.page.press("#t-time", "Enter")
    st = table.after(st["version"], lambda s: player(s, victim)["timeoutPending"] is True)
    chooser = table.phone(victim)
    expect(chooser.page.locator("#dlg-timeout")).to_be_visible(timeout=SEEN_WITHIN_MS)
    with table.act(chooser, "timeout choice", "lose two lives", prompt="#dlg-timeout"):
        chooser.page.click("#tc-lives")
    st = table.after(st["version"], lambda s: player(s, victim)["timeoutPending"] is False)
    assert player(st, victim)["life"] == lives - 2 and st["status"] == "running"

    # -- commander damage on seat 4, partner included; 21 from one commander knocks them out ------
    d4 = table.phone(4)
    start_life = player(st, 4)["life"]
    hit = d4.page.get_by_role("button", name="Increase commander damage to player 4 from Player 1", exact=True)
    for n in range(1, 21):
        with table.act(d4, "commander damage", str(n)):
            if not d4.card(4).locator(".extras").is_visible():
                d4.card(4).locator(".extras-toggle").click()
            hit.click()
        if n in (1, 20):
            st = table.after(st["version"], has(4, "commanderDamage", [[n, 0], [0, 0], [0, 0], [0, 0]]))
    assert player(st, 4)["life"] == start_life - 20
    with table.act(d4, "partner commander damage"):
        d4.page.get_by_role(
            "button", name="Increase partner commander damage to player 4 from Player 2", exact=True
        ).click()
    st = table.after(st["version"], lambda s: player(s, 4)["commanderDamage"][1] == [0, 1])
    assert player(st, 4)["life"] == start_life - 21 and not player(st, 4)["isEliminated"]

    # -- a concede (confirmed), then the 21st from player 1's commander ---------------------------
    c3 = table.phone(3)
    with table.act(c3, "concede", confirm=True):
        c3.page.click("#btn-more")
        c3.page.click("#btn-concede")
        c3.page.click("#confirm-ok")
    st = table.after(st["version"], lambda s: player(s, 3)["eliminatedReason"] == "concede")
    for app in table.apps:
        expect(app.card(3).locator(".out-reason")).to_have_text("Out: conceded")
    with table.act(d4, "commander damage", "21"):
        hit.click()
    st = table.after(st["version"], lambda s: player(s, 4)["eliminatedReason"] == "commanderDamage")
    for app in table.apps:
        expect(app.card(4).locator(".out-reason")).to_have_text("Out: commander damage")
    assert st["status"] == "running"

    # -- seat 2 types 0 life: player 1 wins, on every phone and on the tablet ----------------------
    with table.act(b, "type a life", "0"):
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

    # every playgroup action was performed, each through `act` within two taps (confirms aside)
    performed = {what for what, _, _ in table.counted}
    assert performed == set(PLAYGROUP), sorted(set(PLAYGROUP) - performed)
    assert all(table.reach(what) <= MAX_TAPS for what in PLAYGROUP)
    # the host's seat actions are a seat menu and one item in it
    for what in ("hand over the host role (host)", "free a seat (host)", "move a player to another seat (host)"):
        assert table.reach(what) == 2, (what, [t for w, _, t in table.counted if w == what])
