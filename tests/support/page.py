"""A page object for the web client: what a person does with it, and what a test reads back.

It also records every WebSocket frame the page sends and receives, so a test can check what
reached the wire (or that nothing did).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Locator, Page, WebSocket, WebSocketRoute, expect


class App:
    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url.rstrip("/")
        # what these tests wait for takes milliseconds: fail fast instead of after 30 s
        context.set_default_timeout(5_000)
        # but a navigation loads the whole app (modules, styles, icons): with several browser
        # contexts open and the other test worker busy, CI once took over 5 s for one
        context.set_default_navigation_timeout(15_000)
        self.page: Page = context.new_page()
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        #: the address of every socket the page opened
        self.socket_urls: list[str] = []
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        #: where each of `console_errors` came from (the resource or script), for the report
        self.console_error_sources: list[str] = []
        #: the console errors this page may log: (text, source path, required) (`expect_console_error`)
        self.expected_console_errors: list[tuple[str, str, bool]] = []
        self.wire: Wire | None = None
        self.page.on("websocket", self._on_websocket)
        self.page.on("pageerror", self._on_page_error)
        self.page.on("console", self._on_console)

    # -- recording --------------------------------------------------------------------------

    def _on_websocket(self, ws: WebSocket) -> None:
        self.socket_urls.append(ws.url)
        ws.on("framesent", lambda payload: self._record(self.sent, payload))
        ws.on("framereceived", lambda payload: self._record(self.received, payload))

    @staticmethod
    def _record(into: list[dict[str, Any]], payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        if isinstance(frame, dict):
            into.append(frame)

    def _on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)
            self.console_error_sources.append(str(message.location.get("url", "")))

    def expect_console_error(self, message: str, *, source: str, required: bool = True) -> None:
        """Lets this page log `message` (its whole text, exactly) as a console error from
        `source` (the path, without the query, of the resource or script it names), as often as
        it does: for a test that provokes one on purpose (a 500 it serves, a socket it refuses).
        Chromium logs such failures itself; no page can keep it from doing so. `required`: the
        page must log it at least once (False only where timing decides whether it does)."""
        self.expected_console_errors.append((message, source, required))

    def unexpected_console_errors(self) -> list[str]:
        """Each console error not expected (with where it came from), then each required one
        that was never logged."""
        logged = [(t, urlsplit(s).path) for t, s in zip(self.console_errors, self.console_error_sources, strict=True)]
        allowed = {(t, s) for t, s, _ in self.expected_console_errors}
        out = [f"{text} (from {path or 'no file'})" for text, path in logged if (text, path) not in allowed]
        out += [
            f"expected but not logged: {t} (from {s})"
            for t, s, required in self.expected_console_errors
            if required and (t, s) not in logged
        ]
        return out

    def csp_violations(self) -> list[str]:
        found = self.page.evaluate("window.__cspViolations ?? []")
        return [str(v) for v in found]

    def sent_types(self) -> list[str]:
        return [str(f.get("type")) for f in self.sent]

    def stored_games(self) -> dict[str, Any]:
        raw = self.page.evaluate("localStorage.getItem('tapotarp.games.v1')")
        out: dict[str, Any] = json.loads(raw or "{}")
        return out

    # -- navigation ---------------------------------------------------------------------------

    def open(self, path: str = "/", connected: bool = True) -> App:
        self.page.goto(self.base_url + path)
        if connected:
            self.expect_connection("connected")
        return self

    def reload(self) -> None:
        self.page.reload()
        self.expect_connection("connected")

    def expect_connection(self, state: str, timeout: float = 5_000) -> None:
        expect(self.page.locator("#conn")).to_have_attribute("data-state", state, timeout=timeout)

    # -- home ---------------------------------------------------------------------------------

    def fill_create_form(
        self,
        players: int | str = 2,
        time_each: str = "10",
        thresholds: str | None = None,
        penalty: str | None = None,
        deduction: str | None = None,
    ) -> None:
        self.page.fill("#f-players", str(players))
        self.page.fill("#f-time", time_each)
        if thresholds is not None:
            self.page.fill("#f-thresholds", thresholds)
        if penalty is not None:
            self.page.select_option("#f-penalty", penalty)
        if deduction is not None:
            self.page.fill("#f-deduction", deduction)

    def create_game(self, players: int = 2, time_each: str = "10", **form: str) -> str:
        """Creates a game from the home form and returns its code once the board shows."""
        self.fill_create_form(players, time_each, **form)
        self.page.click("#create-submit")
        expect(self.page.locator("#game")).to_be_visible()
        expect(self.cards()).to_have_count(players)
        code = self.page.inner_text("#game-code")
        assert len(code) == 6, code
        return code

    def join_by_code(self, code: str) -> None:
        self.page.fill("#f-code", code)
        self.page.click("#join-form button[type=submit]")

    # -- game ---------------------------------------------------------------------------------

    def share_link(self) -> str:
        return self.page.input_value("#share-link")

    def cards(self) -> Locator:
        return self.page.locator("#board .card")

    def card(self, player: int) -> Locator:
        return self.page.locator(f'#board .card[data-player="{player}"]')

    def clock(self, player: int) -> Locator:
        return self.card(player).locator(".clock")

    def claim(self, player: int) -> None:
        self.card(player).locator(".claim-btn").click()
        expect(self.card(player)).to_have_attribute("data-seat", "mine")

    def start(self) -> None:
        self.page.click("#btn-start")
        expect(self.page.locator("#game")).to_have_attribute("data-status", "running")

    def clock_ms(self, player: int) -> int:
        return int(self.clock(player).get_attribute("data-ms") or "-1")

    def sample_clock(self, player: int) -> tuple[float, int]:
        """(wall time in ms, rendered clock in ms) read together inside the page, after the
        next frame so the value is fresh."""
        out = self.page.evaluate(
            """(pid) => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
                 const el = document.querySelector(`#board .card[data-player="${pid}"] .clock`);
                 resolve([Date.now(), Number(el.dataset.ms)]);
               })))""",
            player,
        )
        return float(out[0]), int(out[1])

    def tones_played(self) -> int:
        return int(self.page.evaluate("window.__tapotarp.tonesPlayed"))

    def wait_sent(self, mtype: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first frame of `mtype` this page sent (waiting for it if needed)."""
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.sent:
                if frame.get("type") == mtype:
                    return frame
            if time.monotonic() > deadline:
                raise AssertionError(f"no {mtype!r} frame sent; sent: {self.sent_types()}")
            # lets Playwright deliver queued events to the handlers above
            self.page.wait_for_timeout(20)


class Wire:
    """Stands between the page and the service (Playwright's WebSocket routing): every frame
    passes through and is recorded in the App, unless the test holds the service's frames
    back to let a race happen, sends frames of its own, or closes the socket as a
    restarting service does.

    Must exist before the page opens its socket (`open_app(..., wire=True)`).
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.page_side: WebSocketRoute | None = None
        self.server_side: WebSocketRoute | None = None
        self.holding = False
        self.held: list[str | bytes] = []
        app.page.route_web_socket(re.compile(r"/ws(\?.*)?$"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.page_side, self.server_side = ws, server
        self.held.clear()

        def to_server(message: str | bytes) -> None:
            App._record(self.app.sent, message)
            server.send(message)

        def to_page(message: str | bytes) -> None:
            if ws is not self.page_side:
                return
            if self.holding:
                self.held.append(message)
            else:
                App._record(self.app.received, message)
                ws.send(message)

        ws.on_message(to_server)
        server.on_message(to_page)

    def hold(self) -> None:
        """From now on the service's frames wait until `release`."""
        self.holding = True

    def release(self, drop: str | None = None) -> None:
        """Delivers the held frames in order, except those answering requestId `drop`."""
        self.holding = False
        held, self.held = self.held, []
        for message in held:
            if drop is not None and json.loads(message).get("requestId") == drop:
                continue
            self.inject_raw(message)

    def inject(self, frame: dict[str, Any]) -> None:
        self.inject_raw(json.dumps(frame))

    def inject_raw(self, message: str | bytes) -> None:
        assert self.page_side is not None, "the page has no socket"
        App._record(self.app.received, message)
        self.page_side.send(message)

    def close_as_restarting_service(self) -> None:
        assert self.page_side is not None and self.server_side is not None
        self.page_side.close(code=1012, reason="Server restarting")
        self.server_side.close()


def card_edges(w: float, h: float) -> list[tuple[float, float]]:
    """Points at a card's corners (8 px in, inside the rounded corners) and at the middle of
    each edge (3 px in), relative to its top left: where a misclick lands."""
    return [(8, 8), (w - 8, 8), (8, h - 8), (w - 8, h - 8), (w / 2, 3), (3, h / 2), (w - 3, h / 2), (w / 2, h - 3)]
