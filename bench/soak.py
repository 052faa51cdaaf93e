"""Soak: churn games for a long run and show that memory and Redis state level off.

A load benchmark (bench/load.py) holds a fixed set of games for a minute; this runs the other
way round. It starts a game every 60/R seconds (R = --games-per-minute) and lets each live
--alive/R minutes, so about --alive games are open at once, for --minutes. Each game, over
real WebSockets (the lean client of bench/wsproto.py, so the load generator stays cheap):

- the host socket creates it, the other players join, every player claims its seat, the
  host starts it;
- the active player passes the turn and players change their life (updatePlayer), spread
  over the game's life;
- one player drops its socket halfway and comes back on another instance with its token
  (reconnect); a spectator joins and later leaves;
- at the end every socket sends `leave` and closes, the game still running (as players do).

Every --sample-s seconds it records each instance's RSS and open fds (/proc), its asyncio
tasks, GC collections and frozen objects (/metrics), Redis's keys per key family (one SCAN
pass, never KEYS, each key classified by the families of service/keys.py), the size of every
`instance:<incarnation>:games` set, the deadline index's entries, Redis's used_memory and RSS.

Then it reports each figure's plateau (its level once warm-up is over) and its slope after
the plateau (per hour), and checks the bounds the run itself explains:

- each instance's games set holds at most the games in which a socket of that instance holds
  (or held within --set-grace-s) a seat;
- each per-game key family holds at most one key per game alive or ended within the
  retention window (a game abandoned while running commits once more when its clock runs
  out, at most the initial time later); the global families hold at most their constants.

It exits non-zero on a figure that does not level off, a bound exceeded, protocol errors or
sockets left after the drain, and prints a one-line verdict. What it starts (a redis-server
and --instances instances on free loopback ports, rate limits off since every socket comes
from 127.0.0.1, GAME_RETENTION_S=120 unless --env says otherwise) is stopped at the end, on
Ctrl-C or failure too. Or it drives running instances (--url, repeated; --pid for /proc,
--redis-url for the Redis figures; that Redis must serve only these instances).

Run: `python -m bench.soak --games-per-minute 90 --minutes 15 --players 4 --seed 1`.
How to read the table: docs/soak.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import json
import math
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from bench import wsproto
from bench.load import http_url, raise_open_files
from bench.procinfo import memory_kb
from service import keys
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess

TICK_JSON = b'{"type":"tick"'
REQUEST_TIMEOUT_S = 15.0
#: GAME_RETENTION_S of the instances the soak starts, unless --env sets it: short enough that
#: the key families reach their steady state within a run (the service's minimum is 60 s)
DEFAULT_RETENTION_S = 120
#: the service's IDLE_GAME_RETENTION_S default: how long it keeps a game everyone has left
DEFAULT_IDLE_RETENTION_S = 3600
#: how late Redis may still list a key after its TTL, and how far apart the soak's clock and
#: the server's commit may be: the key families' bound counts a game this much longer
EXPIRY_SLACK_S = 5.0
#: a figure must be flat over at least this share of the run (its end) to have levelled off
MIN_TAIL = 1 / 3
#: rate-limit kinds a client address can have a key for (service/limits.py)
RATE_LIMIT_KINDS = 5


# -- plateau and slope ---------------------------------------------------------------------


@dataclass
class Trend:
    """What a series did: where it levelled off, at what level, and its slope from there."""

    levels_off: bool
    #: seconds into the run from which the series is flat (None: it never was)
    plateau_from_s: float | None
    #: median of the series from plateau_from_s on (of the last MIN_TAIL if it never levelled)
    plateau: float
    #: least-squares slope from plateau_from_s (or over the last MIN_TAIL), per hour
    slope_per_h: float
    #: what that slope adds over the flat part: the figure compared with the tolerance
    growth: float
    tolerance: float


def ols_slope(ts: list[float], vs: list[float]) -> float:
    """Least-squares slope of vs over ts (per unit of ts); 0 for fewer than two points."""
    n = len(ts)
    if n < 2:
        return 0.0
    mt = sum(ts) / n
    mv = sum(vs) / n
    den = sum((t - mt) ** 2 for t in ts)
    if den == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in zip(ts, vs, strict=True)) / den


def trend(ts: list[float], vs: list[float], rel_tol: float, abs_tol: float, min_tail: float = MIN_TAIL) -> Trend:
    """The earliest start after which the series stays flat to the end.

    Flat means that the least-squares line through the samples from that start on rises by at
    most max(rel_tol x level, abs_tol) over that span: the noise of a flat series averages out
    in the fit, a warm-up before the start does not count, and growth that goes on to the end
    of the run shows however late it starts, since the flat part must cover at least
    `min_tail` of the run (its end). A falling series is flat.
    """
    if len(ts) < 3:
        level = vs[-1] if vs else 0.0
        return Trend(True, ts[0] if ts else None, level, 0.0, 0.0, abs_tol)
    t_end = ts[-1]
    latest_start = t_end - min_tail * (t_end - ts[0])
    last_fit: tuple[int, float, float, float] | None = None
    for i, start in enumerate(ts):
        if start > latest_start or len(ts) - i < 3:
            break
        tail_t, tail_v = ts[i:], vs[i:]
        slope = ols_slope(tail_t, tail_v)
        growth = slope * (t_end - start)
        level = statistics.median(tail_v)
        tol = max(rel_tol * abs(level), abs_tol)
        last_fit = (i, slope, growth, tol)
        if growth <= tol:
            return Trend(True, start, level, slope * 3600, growth, tol)
    i, slope, growth, tol = last_fit if last_fit is not None else (0, ols_slope(ts, vs), 0.0, abs_tol)
    return Trend(False, None, statistics.median(vs[i:]), slope * 3600, growth, tol)


@dataclass(frozen=True)
class Kind:
    """How a figure is judged: a gauge must level off within its tolerance; a counter's slope
    is its rate (reported, not judged); `info` is reported only (see FIGURE_KINDS)."""

    judged: bool
    rel_tol: float = 0.05
    abs_tol: float = 0.0
    counter: bool = False


#: by the figure's name, first match wins
FIGURE_KINDS: tuple[tuple[str, Kind], ...] = (
    # the load generator's own figures, shown so that its growth is not read as the service's
    ("soak.*", Kind(False)),
    ("*.rss_mb", Kind(True, 0.05, 2.0)),
    ("*.used_memory_mb", Kind(True, 0.05, 1.0)),
    ("*.fds", Kind(True, 0.05, 8.0)),
    ("*.tasks", Kind(True, 0.10, 10.0)),
    ("*.connections", Kind(True, 0.10, 10.0)),
    # the GC policy freezes survivors and lifts the freeze every 600 s: a saw-tooth by design,
    # whose cost RSS carries (and is judged on)
    ("*.gc_frozen", Kind(False)),
    ("*.gc_gen*", Kind(False, counter=True)),
    ("*.gc_uncollectable", Kind(False, counter=True)),
    ("*", Kind(True, 0.05, 10.0)),
)


def kind_of(name: str) -> Kind:
    for pattern, kind in FIGURE_KINDS:
        if fnmatch.fnmatchcase(name, pattern):
            return kind
    raise AssertionError("FIGURE_KINDS ends with a catch-all")


def resolution_per_h(samples: list[Sample], rel_tol: float = 0.05) -> float:
    """The slowest growth (share of the level per hour) a run this long can fail: its
    tolerance spread over the last MIN_TAIL of the run."""
    churn = [s.t for s in samples if s.phase == "churn"]
    span = (churn[-1] - churn[0]) * MIN_TAIL if len(churn) > 1 else 0.0
    return rel_tol * 3600 / span if span else math.inf


# -- key families ----------------------------------------------------------------------------

GAME_ID_GLOB = "?" * keys.ID_LENGTH


@dataclass(frozen=True)
class Family:
    """Keys of one kind, recognised by a glob built from service/keys.py's own functions."""

    name: str
    pattern: str
    #: keys per game (bound: games alive or within retention x this), or 0 for a global family
    per_game: int = 0


FAMILIES: tuple[Family, ...] = (
    Family("game", keys.game(GAME_ID_GLOB), per_game=1),
    Family("log", keys.log(GAME_ID_GLOB), per_game=1),
    Family("actions", keys.actions(GAME_ID_GLOB), per_game=1),
    Family("undo", keys.undo(GAME_ID_GLOB), per_game=1),
    Family("deadlines", keys.deadline_partition(0).replace(keys.PARTITION_TAGS[0], "*")),
    Family("lobby", keys.lobby_partition(0).replace(keys.PARTITION_TAGS[0], "*")),
    Family("instances", keys.instances()),
    Family("instance_games", keys.instance_games("*")),
    Family("rate_limits", keys.rate_limit("*", "*")),
)


def family_of(key: str) -> str:
    """The family of a key, or `other` (a key no family of service/keys.py describes)."""
    for fam in FAMILIES:
        if fnmatch.fnmatchcase(key, fam.pattern):
            return fam.name
    return "other"


def global_bounds(instances: int) -> dict[str, int]:
    """How many keys each global family may hold, whatever the churn."""
    return {
        "deadlines": keys.PARTITIONS,
        # the lobby list's index has the deadline index's partitions
        "lobby": keys.PARTITIONS,
        "instances": 1,
        # one per incarnation: a restarted instance's old set expires after the retention
        "instance_games": instances,
        # every socket of the soak comes from 127.0.0.1
        "rate_limits": RATE_LIMIT_KINDS,
        "other": 0,
    }


# -- the games ----------------------------------------------------------------------------------


@dataclass
class Stats:
    games_started: int = 0
    games_done: int = 0
    games_failed: int = 0
    starts_skipped: int = 0
    requests: int = 0
    error_frames: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(self.error_frames.values()) + sum(self.closes.values()) + sum(self.failures.values())


class RequestFailed(RuntimeError):
    pass


class Sock:
    """One socket of a game: replies are matched to requests by requestId, in the socket's
    data callback; ticks are counted without being parsed."""

    __slots__ = ("client_id", "closed", "game", "hello", "inst", "pending", "stats", "ws")

    def __init__(self, game: GameRun, inst: int) -> None:
        self.game = game
        self.inst = inst
        self.stats = game.stats
        self.ws: wsproto.WsClient | None = None
        self.client_id = ""
        loop = asyncio.get_running_loop()
        self.hello: asyncio.Future[str] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        #: requestId -> (frame types that end it, frames so far, future)
        self.pending: dict[str, tuple[frozenset[str], list[dict[str, Any]], asyncio.Future[list[dict[str, Any]]]]] = {}

    async def connect(self, url: str) -> None:
        self.ws, _ = await wsproto.connect(url, self.on_message, self.on_closed)
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            self.client_id = await self.hello

    def on_message(self, opcode: int, payload: bytes) -> None:
        if payload.startswith(TICK_JSON):
            return
        obj = json.loads(payload)
        mtype = obj.get("type")
        data = obj.get("data") or {}
        if mtype == "clientId":
            if not self.hello.done():
                self.hello.set_result(str(data.get("clientId", "")))
            return
        if mtype == "state":
            self.game.on_state(data)
        rid = obj.get("requestId")
        entry = self.pending.get(rid) if rid is not None else None
        if entry is None:
            if mtype == "error":
                self.stats.error_frames[str(data.get("message", "?"))] += 1
            return
        until, frames, fut = entry
        frames.append(obj)
        if mtype in until or mtype == "error":
            del self.pending[rid]
            if not fut.done():
                fut.set_result(frames)

    def on_closed(self, code: int | None, asked: bool) -> None:
        if not asked:
            self.stats.closes[f"closed {code}"] += 1
        for _, _, fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(f"socket closed ({code})"))
        self.pending.clear()
        if not self.closed.done():
            self.closed.set_result(None)
        self.game.on_socket_closed(self)

    async def request(self, mtype: str, data: dict[str, Any] | None = None, until: str = "state") -> dict[str, Any]:
        """Send a frame and wait for the reply of type `until` (the frames before it are the
        same request's, e.g. `created`); an `error` reply raises."""
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        rid = self.game.next_rid()
        fut: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()
        self.pending[rid] = (frozenset((until,)), [], fut)
        self.stats.requests += 1
        ws.send_text(json.dumps({"type": mtype, "data": data or {}, "requestId": rid}))
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                frames = await fut
        except TimeoutError:
            self.pending.pop(rid, None)
            raise RequestFailed(f"{mtype}: no reply in {REQUEST_TIMEOUT_S:g} s") from None
        last = frames[-1]
        if last["type"] == "error":
            message = str(last.get("data", {}).get("message", "?"))
            self.stats.error_frames[message] += 1
            raise RequestFailed(f"{mtype}: {message}")
        return {f["type"]: f.get("data", {}) for f in frames}

    async def close(self, timeout: float = 5.0) -> None:
        if self.ws is not None and not self.closed.done():
            await wsproto.close_within(self.ws, self.closed, timeout)


class GameRun:
    """One game of the churn, and what the bounds need to know about it: when it was created,
    on which instances it has seated sockets, when everyone left and whether it still ran."""

    def __init__(self, index: int, stats: Stats, created_at: float) -> None:
        self.index = index
        self.stats = stats
        self.game_id = ""
        self.created_at = created_at
        self.started = False
        self.status = "waiting"
        self.active = 1
        self.version = 0
        self.rids = 0
        #: seated sockets (claim sent, seat not yet released) per instance index
        self.seated: Counter[int] = Counter()
        #: last time each instance's last seated socket of this game let go of its seat
        self.released_at: dict[int, float] = {}
        self.seated_socks: set[Sock] = set()
        self.left_at: float | None = None
        self.running_at_leave = True

    def next_rid(self) -> str:
        self.rids += 1
        return f"g{self.index}r{self.rids}"

    def on_state(self, data: dict[str, Any]) -> None:
        version = int(data.get("version", 0))
        if version >= self.version:
            self.version = version
            self.status = str(data.get("status", self.status))
            self.active = int(data.get("activePlayer") or 1)

    def seat(self, sock: Sock) -> None:
        """Counted from before the claim (or reconnect) is sent: the set may gain the game
        as soon as the server has the frame."""
        if sock not in self.seated_socks:
            self.seated_socks.add(sock)
            self.seated[sock.inst] += 1

    def unseat(self, sock: Sock) -> None:
        if sock in self.seated_socks:
            self.seated_socks.discard(sock)
            self.seated[sock.inst] -= 1
            if self.seated[sock.inst] == 0:
                self.released_at[sock.inst] = time.monotonic()

    def on_socket_closed(self, sock: Sock) -> None:
        self.unseat(sock)

    def seats_on(self, inst: int, since: float) -> bool:
        """Whether a socket of `inst` held a seat here at any time from `since` on."""
        return self.seated[inst] > 0 or self.released_at.get(inst, -math.inf) >= since

    def keys_until(self, retention_s: float, initial_time_s: float) -> float:
        """Until when Redis may hold the game's keys: its last commit plus the retention. A
        game left running commits once more when its clock runs out (at most the initial time
        later); a live game's keys stay."""
        if self.left_at is None:
            return math.inf
        last_commit = self.left_at + (initial_time_s if self.running_at_leave and self.started else 0.0)
        return last_commit + retention_s + EXPIRY_SLACK_S

    def may_have_deadline(self, now: float, initial_time_s: float) -> bool:
        if not self.started:
            return False
        if self.left_at is None:
            return True
        return self.running_at_leave and now <= self.left_at + initial_time_s + EXPIRY_SLACK_S


@dataclass
class Config:
    games_per_minute: float = 90.0
    minutes: float = 15.0
    alive: int = 60
    players: int = 4
    seed: int | None = None
    instances: int = 2
    #: running instances to drive instead (ws://...), their pids, their Redis
    urls: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    redis_url: str = ""
    redis_pid: int | None = None
    #: environment of the instances the soak starts (on top of its own defaults)
    env: dict[str, str] = field(default_factory=dict)
    #: how long running instances (--url) keep a game everyone has left; started ones: from env
    retention_s: int | None = None
    sample_s: float = 5.0
    initial_time_s: float = 120.0
    #: turn passes and life changes per game
    actions: int = 8
    set_grace_s: float = 2.0
    json: Path | None = None

    @property
    def lifetime_s(self) -> float:
        return 60.0 * self.alive / self.games_per_minute

    @property
    def retention(self) -> int:
        """How long Redis keeps a game every socket has left, as every soak game ends: the idle
        retention (IDLE_GAME_RETENTION_S), never more than GAME_RETENTION_S."""
        if self.retention_s is not None:
            return self.retention_s
        live = int(self.env.get("GAME_RETENTION_S", DEFAULT_RETENTION_S))
        return min(live, int(self.env.get("IDLE_GAME_RETENTION_S", DEFAULT_IDLE_RETENTION_S)))


async def sleep_until(at: float) -> None:
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def play(game: GameRun, urls: list[str], config: Config, rng: random.Random) -> None:
    """One game's whole life (see the module's docstring), each step answered before the next."""
    n = len(urls)
    players = [Sock(game, (game.index + seat - 1) % n) for seat in range(1, config.players + 1)]
    spectator: Sock | None = None
    socks = list(players)
    ends_at = game.created_at + config.lifetime_s
    try:
        await asyncio.gather(*(p.connect(urls[p.inst]) for p in players))
        host = players[0]
        settings = {"playerCount": config.players, "initialTime": int(config.initial_time_s * 1000)}
        created = await host.request("create", {"settings": settings})
        game.game_id = created["created"]["gameId"]

        async def take_seat(seat: int, p: Sock) -> tuple[int, str]:
            if p is not host:
                await p.request("join", {"gameId": game.game_id})
            game.seat(p)
            claimed = await p.request("claim", {"playerId": seat}, until="claimed")
            return seat, str(claimed["claimed"]["token"])

        tokens = dict(await asyncio.gather(*(take_seat(s, p) for s, p in enumerate(players, 1))))
        game.started = True
        await host.request("start")

        # the actions, the reconnect and the spectator spread evenly over the rest of the life
        steps = config.actions
        t0 = time.monotonic()
        span = max(0.0, ends_at - t0)
        times = [t0 + span * (k + 0.5) / (steps + 1) for k in range(steps)]
        reconnect_at = steps // 2
        for k, at in enumerate(times):
            await sleep_until(at)
            if k == 1 and spectator is None:
                spectator = Sock(game, (game.index + config.players) % n)
                socks.append(spectator)
                await spectator.connect(urls[spectator.inst])
                await spectator.request("join", {"gameId": game.game_id})
            if k == steps - 2 and spectator is not None:
                await spectator.request("leave", until="left")
                await spectator.close()
            if k == reconnect_at and config.players >= 2:
                seat = 2
                old = players[seat - 1]
                await old.close()
                new = Sock(game, (old.inst + 1) % n)
                socks.append(new)
                players[seat - 1] = new
                await new.connect(urls[new.inst])
                game.seat(new)
                await new.request("reconnect", {"gameId": game.game_id, "playerId": seat, "token": tokens[seat]})
            if k % 2 == 0:
                # the active player's own socket passes the turn
                await players[(game.active - 1) % config.players].request("passTurn")
            else:
                seat = rng.randint(1, config.players)
                # above 0: a life at or below 0 eliminates the player and can end the game early
                await players[seat - 1].request("updatePlayer", {"playerId": seat, "life": rng.randint(1, 40)})
        await sleep_until(ends_at)
        game.running_at_leave = game.status == "running"

        async def leave(p: Sock) -> None:
            await p.request("leave", until="left")
            game.unseat(p)
            await p.close()

        await asyncio.gather(*(leave(p) for p in players))
        game.stats.games_done += 1
    except (RequestFailed, ConnectionError, OSError, TimeoutError) as exc:
        game.stats.games_failed += 1
        game.stats.failures[f"{type(exc).__name__}: {exc}"[:120]] += 1
    finally:
        await asyncio.gather(*(s.close() for s in socks), return_exceptions=True)
        if game.left_at is None:
            game.left_at = time.monotonic()


# -- sampling ------------------------------------------------------------------------------


@dataclass
class Target:
    """One instance the soak drives: its URL, its pid (if /proc can be read) and incarnation."""

    name: str
    url: str
    pid: int | None
    incarnation: str = ""


def read_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def scrape(text: str) -> dict[str, float]:
    """The /metrics figures the soak watches, by its own names."""
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == "tapotarp_asyncio_tasks":
                out["tasks"] = s.value
            elif s.name == "tapotarp_gc_frozen_objects":
                out["gc_frozen"] = s.value
            elif s.name == "python_gc_collections_total":
                out[f"gc_gen{s.labels.get('generation', '?')}"] = s.value
            elif s.name == "python_gc_objects_uncollectable_total":
                out["gc_uncollectable"] = out.get("gc_uncollectable", 0.0) + s.value
            elif s.name == "tapotarp_websocket_connections_total":
                out["connections"] = s.value
    return out


@dataclass
class Sample:
    t: float
    figures: dict[str, float]
    #: figure -> the most the run explains at this sample (only the bounded figures)
    bounds: dict[str, float]
    #: "churn" while games are started, "drain" while the last ones finish, "drained" after
    phase: str = "churn"


class Sampler:
    def __init__(self, config: Config, targets: list[Target], redis_url: str, redis_pid: int | None) -> None:
        self.config = config
        self.targets = targets
        self.redis = aioredis.Redis.from_url(redis_url, decode_responses=True) if redis_url else None
        self.redis_pid = redis_pid
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    async def instance_figures(self, session: aiohttp.ClientSession, tgt: Target) -> dict[str, float]:
        out: dict[str, float] = {}
        if tgt.pid is not None:
            with contextlib.suppress(OSError):
                out["rss_mb"] = memory_kb(tgt.pid)[1] / 1024
                out["fds"] = read_fds(tgt.pid)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
            async with session.get(http_url(tgt.url) + "/metrics", timeout=aiohttp.ClientTimeout(total=10)) as r:
                out.update(scrape(await r.text()))
        return {f"{tgt.name}.{k}": v for k, v in out.items()}

    async def redis_figures(self) -> dict[str, float]:
        r = self.redis
        if r is None:
            return {}
        counts: Counter[str] = Counter({f.name: 0 for f in FAMILIES})
        counts["other"] = 0
        sets: list[str] = []
        partitions: list[str] = []
        # SCAN, never KEYS: KEYS blocks Redis for the whole keyspace and is disabled on test servers
        async for key in r.scan_iter(match="*", count=1000):
            fam = family_of(key)
            counts[fam] += 1
            if fam == "instance_games":
                sets.append(key)
            elif fam == "deadlines":
                partitions.append(key)
        out: dict[str, float] = {f"keys.{name}": n for name, n in counts.items()}
        async with r.pipeline(transaction=False) as pipe:
            for key in sets:
                pipe.scard(key)
            for key in partitions:
                pipe.zcard(key)
            sizes = await pipe.execute()
        by_inc = {t.incarnation: t.name for t in self.targets if t.incarnation}
        for key, size in zip(sets, sizes[: len(sets)], strict=True):
            inc = key.split(":")[2] if key.count(":") >= 3 else key
            out[f"set.{by_inc.get(inc, inc)}"] = size
        out["deadline_entries"] = sum(sizes[len(sets) :])
        info = await r.info("memory")
        out["redis.used_memory_mb"] = int(info["used_memory"]) / 1_048_576
        if self.redis_pid is not None:
            with contextlib.suppress(OSError):
                out["redis.rss_mb"] = memory_kb(self.redis_pid)[1] / 1024
        return out

    def bounds(self, games: Iterable[GameRun], since: float, until: float) -> dict[str, float]:
        """The most each bounded figure may be for samples taken between `since` and `until`
        (monotonic): every game alive or within its keys' retention at any time in between."""
        c = self.config
        in_retention = 0
        deadlines = 0
        per_instance: Counter[int] = Counter()
        for g in games:
            if g.created_at > until:
                continue
            if g.keys_until(c.retention, c.initial_time_s) >= since:
                in_retention += 1
            if g.may_have_deadline(since, c.initial_time_s):
                deadlines += 1
            for i in range(len(self.targets)):
                if g.seats_on(i, since - c.set_grace_s):
                    per_instance[i] += 1
        out: dict[str, float] = {}
        for fam in FAMILIES:
            if fam.per_game:
                out[f"keys.{fam.name}"] = in_retention * fam.per_game
        for name, n in global_bounds(len(self.targets)).items():
            out[f"keys.{name}"] = n
        out["deadline_entries"] = deadlines
        for i, tgt in enumerate(self.targets):
            out[f"set.{tgt.name}"] = per_instance[i]
        return out

    async def sample(
        self, session: aiohttp.ClientSession, games: list[GameRun], alive: int, phase: str = "churn"
    ) -> Sample:
        since = time.monotonic()
        parts = await asyncio.gather(*(self.instance_figures(session, t) for t in self.targets), self.redis_figures())
        until = time.monotonic()
        figures: dict[str, float] = {"soak.alive": alive, "soak.rss_mb": memory_kb(os.getpid())[1] / 1024}
        for part in parts:
            figures.update(part)
        # a game created while the sample was taken may be in it; one that expired before may not
        bounds = self.bounds(games, since, until)
        s = Sample(round(since - self.t0, 2), {k: round(v, 3) for k, v in figures.items()}, bounds, phase)
        self.samples.append(s)
        return s


# -- one run ----------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Result:
    config: dict[str, Any]
    stats: dict[str, Any]
    samples: list[Sample]
    trends: dict[str, Trend]
    checks: list[Check]
    verdict: str

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def failed(self, prefix: str = "") -> list[Check]:
        return [c for c in self.checks if not c.ok and c.name.startswith(prefix)]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


class Stack:
    """The processes the soak started (stopped by stop(), whatever happened), or none."""

    def __init__(self) -> None:
        self.redis: RedisProcess | None = None
        self.services: list[ServiceProcess] = []
        self.log_dir = Path(tempfile.mkdtemp(prefix="soak-"))

    def start(self, config: Config) -> None:
        self.redis = RedisProcess().start()
        env = {
            "TAPOTARP_TEST_CLOCK": "0",
            "GAME_RETENTION_S": str(DEFAULT_RETENTION_S),
            "LOG_LEVEL": "WARNING",
            **config.env,
        }
        # ServiceProcess turns every per-address limit off: all the soak's sockets share 127.0.0.1
        self.services = [
            ServiceProcess(self.redis.url, self.log_dir, f"inst{i}", **env) for i in range(config.instances)
        ]
        for svc in self.services:
            svc.start()

    def stop(self) -> None:
        for svc in self.services:
            with contextlib.suppress(Exception):
                svc.stop()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                self.redis.close()


async def learn_incarnation(tgt: Target) -> None:
    """Client ids are `client_<incarnation>_<random>`: one socket names its instance's set."""
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    hello: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_message(_op: int, payload: bytes) -> None:
        obj = json.loads(payload)
        if obj.get("type") == "clientId" and not hello.done():
            hello.set_result(str(obj["data"]["clientId"]))

    def on_closed(_code: int | None, _asked: bool) -> None:
        if not closed.done():
            closed.set_result(None)

    ws, _ = await wsproto.connect(tgt.url, on_message, on_closed)
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            client_id = await hello
        tgt.incarnation = client_id.split("_")[1] if client_id.count("_") >= 2 else ""
        ws.close()
        async with asyncio.timeout(5):
            await closed
    finally:
        ws.abort()


def analyse(stats: Stats, samples: list[Sample], drained: Sample | None) -> tuple[dict[str, Trend], list[Check]]:
    """Trends over the churn (the drain only falls), bounds over every sample."""
    churn = [s for s in samples if s.phase == "churn"]
    names = sorted({k for s in churn for k in s.figures})
    trends: dict[str, Trend] = {}
    checks: list[Check] = []
    for name in names:
        points = [(s.t, s.figures[name]) for s in churn if name in s.figures]
        kind = kind_of(name)
        tr = trend([p[0] for p in points], [p[1] for p in points], kind.rel_tol, kind.abs_tol)
        trends[name] = tr
        if kind.judged:
            detail = (
                f"flat from {tr.plateau_from_s:.0f} s at {tr.plateau:g}"
                if tr.levels_off and tr.plateau_from_s is not None
                else f"still growing: +{tr.growth:.3g} over the last third (tolerance {tr.tolerance:.3g}), "
                f"{tr.slope_per_h:+.3g}/h"
            )
            checks.append(Check(f"growth:{name}", tr.levels_off, detail))
    bounded = sorted({k for s in samples for k in s.bounds})
    for name in bounded:
        over = [
            (s.t, s.figures[name], s.bounds[name])
            for s in samples
            if name in s.figures and s.figures[name] > s.bounds[name]
        ]
        seen = [s.figures[name] for s in samples if name in s.figures]
        if not seen:
            continue
        if over:
            t, v, b = max(over, key=lambda o: o[1] - o[2])
            detail = f"{len(over)} of {len(seen)} samples over; worst {v:g} > {b:g} at {t:.0f} s"
            end = [s for s in churn if name in s.figures and name in s.bounds]
            if end:
                detail += f"; {end[-1].figures[name]:g} (bound {end[-1].bounds[name]:g}) at the end of the churn"
        else:
            detail = f"max {max(seen):g}, always within the live games' bound"
        checks.append(Check(f"bound:{name}", not over, detail))
    checks.append(
        Check(
            "errors",
            stats.errors == 0,
            f"{stats.errors} (error frames {dict(stats.error_frames)}, closes {dict(stats.closes)}, "
            f"failures {dict(stats.failures)})"
            if stats.errors
            else f"none in {stats.requests} requests",
        )
    )
    if drained is not None:
        left = {k: v for k, v in drained.figures.items() if k.endswith(".connections") and v > 0}
        checks.append(
            Check("drain", not left, f"sockets left after the drain: {left}" if left else "every socket closed")
        )
    return trends, checks


async def run(config: Config) -> Result:
    rng = random.Random(config.seed)
    stats = Stats()
    stack = Stack()
    sampler: Sampler | None = None
    games: list[GameRun] = []
    tasks: set[asyncio.Task[None]] = set()
    try:
        if config.urls:
            pids: list[int | None] = [*config.pids, *[None] * (len(config.urls) - len(config.pids))]
            targets = [Target(f"inst{i}", u, p) for i, (u, p) in enumerate(zip(config.urls, pids, strict=True))]
            redis_url, redis_pid = config.redis_url, config.redis_pid
        else:
            # blocking, on purpose: a Ctrl-C meanwhile still finds every started process in stack
            stack.start(config)
            assert stack.redis is not None
            targets = [Target(s.name, s.ws_url, s.pid) for s in stack.services]
            redis_url, redis_pid = stack.redis.url, stack.redis.pid
        for tgt in targets:
            await learn_incarnation(tgt)
        sampler = Sampler(config, targets, redis_url, redis_pid)
        urls = [t.url for t in targets]
        interval = 60.0 / config.games_per_minute
        started = time.monotonic()
        stop_at = started + config.minutes * 60
        next_sample = started
        next_game = started
        index = 0
        drained: Sample | None = None
        async with aiohttp.ClientSession() as session:
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    # expired games no longer weigh on any bound: keep the soak's own memory flat
                    horizon = now - config.set_grace_s - 1
                    games = [g for g in games if g.keys_until(config.retention, config.initial_time_s) >= horizon]
                    s = await sampler.sample(session, games, len(tasks))
                    progress(s, now - started, stats)
                    next_sample += config.sample_s
                if now >= stop_at:
                    break
                if now >= next_game:
                    if len(tasks) >= 2 * config.alive:
                        # the stack is behind: no new game rather than an ever-growing backlog
                        stats.starts_skipped += 1
                    else:
                        game = GameRun(index, stats, now)
                        index += 1
                        games.append(game)
                        stats.games_started += 1
                        task = asyncio.create_task(play(game, urls, config, rng))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    # evenly spaced, each moved by up to 10 % so starts do not stay in step
                    next_game += interval * rng.uniform(0.9, 1.1)
                await sleep_until(min(next_sample, next_game, stop_at))
            # drain: no new game; the live ones finish their lives
            async with asyncio.timeout(config.lifetime_s + 4 * REQUEST_TIMEOUT_S):
                while tasks:
                    await asyncio.wait(set(tasks), timeout=config.sample_s)
                    if tasks:
                        await sampler.sample(session, games, len(tasks), "drain")
            await asyncio.sleep(2.0)
            drained = await sampler.sample(session, games, 0, "drained")
        trends, checks = analyse(stats, sampler.samples, drained)
        return Result(
            config=config_json(config),
            stats=asdict(stats),
            samples=sampler.samples,
            trends=trends,
            checks=checks,
            verdict=verdict_line(config, stats, checks),
        )
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if sampler is not None:
            await sampler.aclose()
        # blocking on purpose: it must run even while the loop is being cancelled (Ctrl-C)
        stack.stop()


def config_json(config: Config) -> dict[str, Any]:
    out = asdict(config)
    out["json"] = str(config.json) if config.json else None
    out["retention_s"] = config.retention
    out["lifetime_s"] = round(config.lifetime_s, 2)
    return out


def progress(s: Sample, elapsed: float, stats: Stats) -> None:
    f = s.figures
    rss = " ".join(f"{k.split('.')[0]} {v:.0f}MB" for k, v in f.items() if k.endswith(".rss_mb") and k[:4] == "inst")
    print(
        f"  {elapsed:6.0f} s  games {stats.games_started} (alive {f.get('soak.alive', 0):.0f}, failed "
        f"{stats.games_failed})  {rss}  game keys {f.get('keys.game', 0):.0f}  redis "
        f"{f.get('redis.used_memory_mb', 0):.1f}MB",
        file=sys.stderr,
        flush=True,
    )


def verdict_line(config: Config, stats: Stats, checks: list[Check]) -> str:
    failed = [c for c in checks if not c.ok]
    head = (
        f"{stats.games_started} games in {config.minutes:g} min at {config.games_per_minute:g}/min, "
        f"about {config.alive} alive"
    )
    if not failed:
        return f"soak PASS: {head}; every judged figure levels off, every bound held, no errors"
    return f"soak FAIL: {head}; failed: " + ", ".join(c.name for c in failed)


# -- report -----------------------------------------------------------------------------------


def table(result: Result) -> str:
    """One markdown row per figure: first and last value, plateau, slope, bound, verdict."""
    rows = [
        "| figure | first | last | max | plateau | flat from | slope after (/h) | bound (max) | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    checks = {c.name: c for c in result.checks}
    samples = [s for s in result.samples if s.phase == "churn"]
    for name, tr in result.trends.items():
        values = [s.figures[name] for s in samples if name in s.figures]
        bounds = [s.bounds[name] for s in result.samples if name in s.bounds]
        growth = checks.get(f"growth:{name}")
        bound = checks.get(f"bound:{name}")
        kind = kind_of(name)
        verdicts = []
        if growth is not None:
            verdicts.append("flat" if growth.ok else "GROWS")
        elif kind.counter:
            verdicts.append("rate")
        else:
            verdicts.append("info")
        if bound is not None:
            verdicts.append("in bound" if bound.ok else "OVER BOUND")
        rows.append(
            "| "
            + " | ".join(
                [
                    name,
                    f"{values[0]:g}",
                    f"{values[-1]:g}",
                    f"{max(values):g}",
                    f"{tr.plateau:.4g}" if tr.levels_off and not kind.counter else "-",
                    f"{tr.plateau_from_s:.0f} s" if tr.plateau_from_s is not None and not kind.counter else "-",
                    f"{tr.slope_per_h:+.4g}",
                    f"{max(bounds):g}" if bounds else "-",
                    ", ".join(verdicts),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def report(result: Result) -> str:
    st = result.stats
    lines = [
        f"games started {st['games_started']}, done {st['games_done']}, failed {st['games_failed']}, "
        f"starts skipped {st['starts_skipped']}; requests {st['requests']}; samples {len(result.samples)}",
        f"a run this long fails growth above about {100 * resolution_per_h(result.samples):.0f} % of a figure's "
        "level per hour (5 % over its last third); read the slope column for slower growth",
        "",
        table(result),
        "",
        *(
            f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}"
            for c in result.checks
            if not c.ok or c.name in ("errors", "drain")
        ),
        "",
        result.verdict,
    ]
    return "\n".join(lines)


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Config:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--games-per-minute", type=float, default=90.0, help="games started per minute (default 90)")
    ap.add_argument("--minutes", type=float, default=15.0, help="how long games are started (default 15)")
    ap.add_argument("--alive", type=int, default=60, help="games open at once; sets each game's life (default 60)")
    ap.add_argument("--players", type=int, default=4, help="players (sockets) per game, 2-8 (default 4)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the start jitter and the actions")
    ap.add_argument("--instances", type=int, default=2, help="instances to start (default 2)")
    ap.add_argument("--url", action="append", default=[], help="drive a running instance (ws://127.0.0.1:PORT)")
    ap.add_argument("--pid", action="append", type=int, default=[], help="with --url: its pid, same order")
    ap.add_argument("--redis-url", default="", help="with --url: the instances' Redis, for its figures")
    ap.add_argument("--redis-pid", type=int, default=None, help="with --url: Redis's pid, for its RSS")
    ap.add_argument(
        "--retention-s",
        type=int,
        default=None,
        help="with --url: how long the instances keep a game everyone left (IDLE_GAME_RETENTION_S, at most "
        "GAME_RETENTION_S)",
    )
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the started instances (repeat)")
    ap.add_argument("--sample-s", type=float, default=5.0, help="seconds between samples (default 5)")
    ap.add_argument("--initial-time-s", type=float, default=120.0, help="each player's clock (default 120)")
    ap.add_argument("--actions", type=int, default=8, help="turn passes and life changes per game (default 8)")
    ap.add_argument("--set-grace-s", type=float, default=2.0, help="a seat released this recently still counts")
    ap.add_argument("--json", type=Path, default=None, help="write samples, trends and verdict to this file")
    a = ap.parse_args(argv)
    if not 0 < a.games_per_minute <= 600:
        ap.error("--games-per-minute must be in (0, 600]")
    if not 0 < a.minutes <= 24 * 60:
        ap.error("--minutes must be in (0, 1440]")
    if not 1 <= a.alive <= 2000:
        ap.error("--alive must be 1..2000")
    if not 2 <= a.players <= 8:
        ap.error("--players must be 2..8")
    if not 1 <= a.instances <= 8:
        ap.error("--instances must be 1..8")
    if not 2 <= a.actions <= 100:
        ap.error("--actions must be 2..100")
    if not 1 <= a.sample_s <= 300:
        ap.error("--sample-s must be in [1, 300]")
    urls = [u.replace("http://", "ws://", 1) for u in a.url]
    for u in urls:
        host = u.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if not u.startswith("ws://") or host not in ("127.0.0.1", "localhost", "[::1]"):
            ap.error(f"--url must be a loopback ws:// address, not {u!r}")
    if a.redis_url and "127.0.0.1" not in a.redis_url and "localhost" not in a.redis_url:
        ap.error("--redis-url must be on loopback")
    if (a.pid or a.redis_url or a.redis_pid or a.retention_s) and not urls:
        ap.error("--pid, --redis-url, --redis-pid and --retention-s go with --url")
    if len(a.pid) > len(urls):
        ap.error("more --pid than --url")
    env: dict[str, str] = {}
    for item in a.env:
        name, eq, value = item.partition("=")
        if not eq or not name:
            ap.error(f"--env takes NAME=VALUE, not {item!r}")
        env[name] = value
    if env and urls:
        ap.error("--env is for the instances the soak starts, not with --url")
    return Config(
        games_per_minute=a.games_per_minute,
        minutes=a.minutes,
        alive=a.alive,
        players=a.players,
        seed=a.seed,
        instances=len(urls) or a.instances,
        urls=urls,
        pids=a.pid,
        redis_url=a.redis_url,
        redis_pid=a.redis_pid,
        env=env,
        retention_s=(a.retention_s or DEFAULT_IDLE_RETENTION_S) if urls else None,
        sample_s=a.sample_s,
        initial_time_s=a.initial_time_s,
        actions=a.actions,
        set_grace_s=a.set_grace_s,
        json=a.json,
    )


async def main(config: Config) -> int:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = False

    def on_sigterm() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    # SIGTERM stops the run as Ctrl-C does: through run()'s finally, which stops the stack
    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    print(
        f"soak: {config.games_per_minute:g} games/min for {config.minutes:g} min, ~{config.alive} alive "
        f"({config.lifetime_s:.0f} s each), {config.players} players, {config.instances} instances, "
        f"retention {config.retention} s",
        file=sys.stderr,
    )
    try:
        result = await run(config)
    except asyncio.CancelledError:
        if not terminated:
            raise  # Ctrl-C: asyncio.run turns it back into KeyboardInterrupt
        print("soak: terminated; what it started is stopped", file=sys.stderr)
        return 143
    print(report(result), flush=True)
    if config.json is not None:
        config.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": ["python", "-m", "bench.soak", *sys.argv[1:]], **result.to_json()}
        config.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0 if result.ok else 1


def cli() -> None:
    config = parse_args()
    raise_open_files()
    try:
        sys.exit(asyncio.run(main(config)))
    except KeyboardInterrupt:
        print("soak: interrupted; what it started is stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    cli()
