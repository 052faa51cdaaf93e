"""The games every chaos scenario plays while it injects its fault, recording into a History.

Two kinds of game:

- load games: long clocks; whoever holds the active seat passes the turn `rate` times a
  second, each pass with a requestId, retried with the same requestId after a lost reply (so
  the service's idempotency is exercised too);
- clock games: short clocks nobody passes, so the first player's warnings and timeout fall
  due during the fault: the deadline loop must fire each exactly once, whichever instance
  lives, and every socket that stayed connected must get each one.

Every seat has its own socket; a seat whose socket closes reconnects, on any endpoint, with
its token (the host seat with the host token too) and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.checker import History
from service.messages.session import action_id_for
from stack.client import Client

#: a game's log keeps 256 entries (lua/lib/commit.lua LOG_CAP): stay well inside it
MAX_PASSES_PER_GAME = 180
#: how long one request may take before the seat gives up on its socket
REQUEST_TIMEOUT_S = 5.0


class SocketClosed(ConnectionError):
    """The server closed the socket before the reply came (a drain, a cut-off instance)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"closed {code}")
        self.code = code


@dataclass
class Seat:
    game_id: str
    player_id: int
    token: str
    host_token: str | None
    client: Client | None = None
    reconnects: int = 0
    #: how far this seat's frames have been recorded, in the current client's messages
    cursor: int = 0
    #: when its socket was found gone (monotonic s), until it is back
    lost_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        return f"{self.game_id}/{self.player_id}"


@dataclass
class Game:
    seats: list[Seat]
    clock_game: bool
    active: int = 1
    passes: int = 0

    @property
    def game_id(self) -> str:
        return self.seats[0].game_id


@dataclass
class Workload:
    """`endpoints()` lists the WebSocket URLs to connect to now (instances, or a balancer)."""

    endpoints: Callable[[], list[str]]
    history: History
    games: list[Game] = field(default_factory=list)

    async def connect(self) -> Client:
        last: BaseException | None = None
        urls = self.endpoints()
        for url in random.sample(urls, len(urls)):
            try:
                return await asyncio.wait_for(Client.connect(url), REQUEST_TIMEOUT_S)
            except (OSError, TimeoutError, Exception) as exc:
                last = exc
        raise ConnectionError(f"no endpoint answers: {last}")

    async def setup(self, load_games: int, clock_games: int, players: int, clock_ms: int) -> None:
        """Creates and starts the games. A clock game's clocks run for `clock_ms`, with
        warnings at two thirds and a third of it."""
        for n in range(load_games + clock_games):
            clock_game = n >= load_games
            settings: dict[str, Any] = {"playerCount": players, "initialTime": 3_600_000}
            if clock_game:
                settings = {
                    "playerCount": players,
                    "initialTime": clock_ms,
                    "warningThresholds": [clock_ms * 2 // 3, clock_ms // 3],
                }
            self.games.append(await self._new_game(settings, players, clock_game))

    async def _new_game(self, settings: dict[str, Any], players: int, clock_game: bool) -> Game:
        host = await self.connect()
        reply = await host.request("create", {"settings": settings}, timeout=REQUEST_TIMEOUT_S)
        if reply["type"] == "error":
            raise RuntimeError(f"create failed: {reply['data']}")
        created = await host.next("created")
        gid, host_token = created["data"]["gameId"], created["data"]["hostToken"]
        # checked at the end even if none of its actions is acknowledged
        self.history.game(gid)
        seats = []
        for pid in range(1, players + 1):
            c = host if pid == 1 else await self.connect()
            if pid != 1:
                await c.request("join", {"gameId": gid}, timeout=REQUEST_TIMEOUT_S)
            await c.request("claim", {"playerId": pid}, timeout=REQUEST_TIMEOUT_S)
            claimed = await c.next("claimed")
            seats.append(Seat(gid, pid, claimed["data"]["token"], host_token if pid == 1 else None, c))
        started = await host.request("start", timeout=REQUEST_TIMEOUT_S)
        if started["type"] != "state":
            raise RuntimeError(f"start failed: {started['data']}")
        return Game(seats, clock_game)

    # -- recording ------------------------------------------------------------------------

    def harvest(self, seat: Seat) -> None:
        """Records the frames this seat's socket received since the last harvest."""
        c = seat.client
        if c is None:
            return
        for m in c.messages[seat.cursor :]:
            t, d = m.get("type"), m.get("data") or {}
            if t == "state" and d.get("id") == seat.game_id:
                self.history.saw(seat.name, seat.game_id, int(d["version"]))
            elif t == "warning":
                self.history.deadline_frame(seat.name, seat.game_id, int(d["playerId"]), int(d["threshold"]))
            elif t == "timeout":
                self.history.deadline_frame(seat.name, seat.game_id, int(d["playerId"]), None)
        seat.cursor = len(c.messages)

    @staticmethod
    def what_failed(c: Client | None, exc: BaseException) -> str:
        """An error's name for the verdict: `closed CODE` for a request in flight when the
        server closed the socket, `drained` when it was sent after the instance's
        shutdown_warning and the connection ended before its close frame was read."""
        if isinstance(exc, SocketClosed):
            return f"closed {exc.code}"
        if c is not None and c.closed_code is not None:
            return f"closed {c.closed_code}"
        if c is not None and any(m.get("type") == "shutdown_warning" for m in c.messages):
            return "drained"
        return type(exc).__name__

    # -- keeping the seats connected ----------------------------------------------------------

    async def recover(self, seat: Seat) -> None:
        """A new socket for the seat, on any endpoint, with its tokens."""
        async with seat.lock:
            if seat.client is not None and seat.client.closed_code is None:
                return
            await self._drop(seat)
            data: dict[str, Any] = {"gameId": seat.game_id, "playerId": seat.player_id, "token": seat.token}
            if seat.host_token:
                data["hostToken"] = seat.host_token
            c = await self.connect()
            try:
                reply = await c.request("reconnect", data, timeout=REQUEST_TIMEOUT_S)
            except BaseException:
                code = c.closed_code
                await c.close()
                if code is not None:
                    # it landed on an instance that was closing its sockets: try again
                    raise SocketClosed(code) from None
                raise
            if reply["type"] == "error":
                await c.close()
                raise ConnectionError(f"reconnect refused: {reply['data'].get('code')}")
            seat.client = c
            seat.cursor = 0
            seat.reconnects += 1
            if seat.lost_at is not None:
                self.history.back_after(time.monotonic() - seat.lost_at)
                seat.lost_at = None

    async def _drop(self, seat: Seat) -> None:
        if seat.lost_at is None:
            seat.lost_at = time.monotonic()
        self.harvest(seat)
        if seat.client is not None and seat.client.closed_code is not None:
            self.history.closed(seat.client.closed_code)
        if seat.client is not None:
            with contextlib.suppress(Exception):
                await seat.client.close()
        seat.client = None

    async def keep(self, seat: Seat, going: Callable[[], bool]) -> None:
        """Reconnects the seat whenever its socket is gone, while `going()`."""
        while going():
            await asyncio.sleep(0.2)
            self.harvest(seat)
            if seat.client is None or seat.client.closed_code is not None:
                try:
                    await self.recover(seat)
                except Exception as exc:
                    self.history.error(f"reconnect: {type(exc).__name__}")

    # -- playing --------------------------------------------------------------------------

    async def play(self, game: Game, going: Callable[[], bool], rate: float) -> None:
        """The active seat passes the turn `rate` times a second (load games only)."""
        while going() and game.passes < MAX_PASSES_PER_GAME:
            await asyncio.sleep(1 / rate)
            seat = game.seats[game.active - 1]
            rid = f"{seat.name}-{time.monotonic_ns()}"
            sent_at = time.monotonic()
            for _attempt in range(2):
                c: Client | None = None
                try:
                    if seat.client is None or seat.client.closed_code is not None:
                        await self.recover(seat)
                    # this socket, even if the seat's keeper replaces it meanwhile
                    c = seat.client
                    assert c is not None
                    await c.send("passTurn", {}, request_id=rid)
                    reply = await c.reply(rid, timeout=REQUEST_TIMEOUT_S)
                except Exception as exc:
                    self.history.error(self.what_failed(c, exc), seat.game_id)
                    if c is not None and seat.client is c:
                        with contextlib.suppress(Exception):
                            await self._drop(seat)
                    # the same requestId again: applied once however many times it is sent
                    continue
                self.harvest(seat)
                if reply["type"] == "state":
                    aid = action_id_for(f"seat{seat.player_id}", "passTurn", rid)
                    self.history.ack(seat.game_id, rid, aid, int(reply["data"]["version"]), sent_at)
                    self.history.committed_at(float(reply["data"]["serverTime"]))
                    game.passes += 1
                    game.active = reply["data"]["activePlayer"] or game.active
                else:
                    code = str(reply["data"].get("code"))
                    self.history.error(code, seat.game_id)
                    if code == "NOT_AUTHORIZED_PASS":
                        # the turn moved on without this seat knowing: follow the newest state
                        game.active = game.active % len(game.seats) + 1
                break

    async def run(self, seconds: float, rate: float) -> None:
        until = time.monotonic() + seconds
        await self.run_while(lambda: time.monotonic() < until, rate)

    async def run_while(self, going: Callable[[], bool], rate: float) -> None:
        """Plays while `going()` says so."""
        tasks = [self.keep(s, going) for g in self.games for s in g.seats]
        tasks += [self.play(g, going, rate) for g in self.games if not g.clock_game]
        await asyncio.gather(*tasks)

    def steady(self) -> set[str]:
        return {s.name for g in self.games for s in g.seats if s.reconnects == 0}

    @property
    def reconnects(self) -> int:
        return sum(s.reconnects for g in self.games for s in g.seats)

    async def close(self) -> None:
        for g in self.games:
            for s in g.seats:
                await self._drop(s)
