"""Load benchmark: many games played at once over real WebSockets, with latency and cost figures.

Starts its own Redis (AOF on) and N service instances on loopback (or drives running ones
with --target), connects G games x P players (every player its own socket, the players of a
game spread round-robin over the instances), starts every game, and then has each game's
active player pass the turn (`passTurn`) R times a second, each game on its own randomly
phased and jittered schedule so the load is smooth. For --duration seconds it measures:

- confirmed actions per second (an action is confirmed by the sender's `state` reply that
  echoes its requestId);
- acknowledgement latency (send -> that reply) and fan-out latency (send -> each other
  player of the game receiving the `state` of the new version): p50/p95/p99/max;
- errors: error frames, unexpected closes, acknowledgements or fan-outs missing after
  --timeout seconds, games that could not be set up;
- CPU seconds (user+sys, from /proc, over the measurement window) and peak RSS (VmHWM) of
  every instance, of Redis and of this load generator;
- where a slow action waited: Redis PING round trips (every 20 ms), each instance's /health
  answer time (every 100 ms: its event loop's lag) and this process's own loop lag.

The instances it starts run as in production, with every per-address limit on, but set out of
reach of the run (all its sockets share 127.0.0.1: stack.presets.out_of_reach_env, 4 times the
most the run can produce); `--limits off` turns them all off instead. The report and the JSON
say which ran, with the values.

Then it closes every socket, stops what it started, prints a report and exits. Frames are
JSON text, as browsers send them (--encoding msgpack uses the `msgpack` subprotocol). The
sockets use a lean client (bench/wsproto.py) and the collector is off during the window, so
the load generator, which shares the machine, adds as little as it can to what it measures.
Each game sends its next action only once the previous one is acknowledged and fanned out
(or timed out), so an overloaded stack shows as late sends and fewer actions per second,
not as an ever-growing queue.

Run: `python -m bench.load --games 100,500 --duration 30 --json artifacts/load.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgpack

from bench import wsproto
from bench.procinfo import ProcWatch, can_attach, py_spy, summarize_collapsed
from bench.wsproto import OP_TEXT, WsClient
from stack.instance import ServiceProcess
from stack.presets import out_of_reach_env
from stack.redis_server import RedisProcess

#: every tick frame starts so (the service encodes the envelope with `type` first): ticks are
#: counted without being parsed, they are most of what a socket receives
TICK_JSON = b'{"type":"tick"'
TICK_MSGPACK = b"\x82\xa4type\xa4tick"
#: long enough that no clock runs out or crosses a warning during any run: every version
#: change then comes from the benchmark's own actions
INITIAL_TIME_MS = 24 * 3_600_000
SETUP_TIMEOUT_S = 20.0
LEAD_IN_S = 0.5
AOF_MODES = ("off", "everysec", "always")
LIMIT_MODES = ("on", "off")


# -- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Dist:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Dist:
        return cls(
            len(values),
            percentile(values, 0.50),
            percentile(values, 0.95),
            percentile(values, 0.99),
            max(values, default=0.0),
        )


@dataclass
class Stats:
    """Raw counts and samples of one run, filled by the socket readers and game drivers."""

    measuring: bool = False
    sent: int = 0
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    fanout_ms: list[float] = field(default_factory=list)
    #: when each ack / fan-out sample's action was sent (perf_counter), for --samples
    ack_at: list[float] = field(default_factory=list)
    fanout_at: list[float] = field(default_factory=list)
    #: how late each action left against its game's schedule (the loadgen or the game behind)
    send_lag_ms: list[float] = field(default_factory=list)
    #: how late the loadgen's event loop woke up from a 50 ms sleep
    loop_lag_ms: list[float] = field(default_factory=list)
    #: PING round trips to Redis, and /health answer times of each instance
    redis_ping_ms: list[float] = field(default_factory=list)
    health_ms: dict[str, list[float]] = field(default_factory=dict)
    error_frames: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    ack_timeouts: int = 0
    fanout_missing: int = 0
    send_failures: int = 0
    setup_failures: int = 0
    #: actions whose turn never came before the window closed (the game was still waiting)
    skipped: int = 0
    #: acknowledgements whose version was not the one after the action's base: something else
    #: changed the game meanwhile (not an error by itself, but the latencies assume it is rare)
    version_skew: int = 0
    ticks: int = 0
    frames: int = 0

    @property
    def errors(self) -> int:
        return (
            sum(self.error_frames.values())
            + sum(self.closes.values())
            + self.ack_timeouts
            + self.fanout_missing
            + self.send_failures
            + self.setup_failures
        )


# -- clients ----------------------------------------------------------------------------------


class Waiter:
    """The frames echoing one setup request's requestId, until its `state` or `error`."""

    __slots__ = ("done", "frames", "rid")

    def __init__(self, rid: str) -> None:
        self.rid = rid
        self.frames: list[dict[str, Any]] = []
        self.done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()


class Player:
    """One seat of one game on its own socket. Everything it receives is handled in the
    socket's data callback: no task per socket."""

    __slots__ = ("awaiting", "binary", "closed", "game", "seat", "stats", "version", "waiter", "ws")

    def __init__(self, game: Game, seat: int, stats: Stats) -> None:
        self.game = game
        self.seat = seat
        self.stats = stats
        self.ws: WsClient | None = None
        self.binary = False
        self.version = 0
        #: whether this player still has to see the state of the game's action in flight
        self.awaiting = False
        self.waiter: Waiter | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def connect(self, url: str, encoding: str) -> None:
        self.ws, chosen = await wsproto.connect(
            url, self.on_message, self.on_closed, "msgpack" if encoding == "msgpack" else None
        )
        self.binary = chosen == "msgpack"
        if encoding == "msgpack" and not self.binary:
            raise RuntimeError("the instance did not accept the msgpack subprotocol")

    def send(self, mtype: str, rid: str, data: dict[str, Any] | None = None) -> None:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        if self.binary:
            ws.send_bytes(msgpack.packb({"type": mtype, "data": data or {}, "requestId": rid}))
        elif data is None:
            # the hot path: no json.dumps for a frame whose shape never changes
            ws.send_text('{"type":"' + mtype + '","data":{},"requestId":"' + rid + '"}')
        else:
            ws.send_text(json.dumps({"type": mtype, "data": data, "requestId": rid}))

    async def request(self, mtype: str, rid: str, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send a setup request; the frames answering it, the last being its `state` or `error`."""
        self.waiter = waiter = Waiter(rid)
        try:
            self.send(mtype, rid, data)
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                return await waiter.done
        finally:
            self.waiter = None

    def on_message(self, opcode: int, payload: bytes) -> None:
        stats = self.stats
        stats.frames += 1
        if opcode == OP_TEXT:
            if payload.startswith(TICK_JSON):
                stats.ticks += 1
                return
            self.on_frame(json.loads(payload))
        else:
            if payload.startswith(TICK_MSGPACK):
                stats.ticks += 1
                return
            self.on_frame(msgpack.unpackb(payload))

    def on_closed(self, code: int | None, asked: bool) -> None:
        if not asked:
            self.stats.closes[f"closed {code}"] += 1
        waiter = self.waiter
        if waiter is not None and not waiter.done.done():
            waiter.done.set_exception(ConnectionError(f"socket closed ({code})"))
        if not self.closed.done():
            self.closed.set_result(None)

    def on_frame(self, obj: dict[str, Any]) -> None:
        mtype = obj.get("type")
        rid = obj.get("requestId")
        if mtype == "state":
            self.game.on_state(self, obj["data"], rid)
        elif mtype == "error":
            self.game.on_error(self, obj["data"].get("message", "?"), rid)
        waiter = self.waiter
        # frames after the state (e.g. `claimed`) are not waited for
        if waiter is not None and rid == waiter.rid and not waiter.done.done():
            waiter.frames.append(obj)
            if mtype in ("state", "error"):
                waiter.done.set_result(waiter.frames)

    async def close(self, timeout: float = 5.0) -> None:
        if self.ws is not None:
            await wsproto.close_within(self.ws, self.closed, timeout)


class Inflight:
    """The one action a game has on its way: its sender, timing and who has yet to see it."""

    __slots__ = ("acked", "base", "left", "rid", "sender", "t0", "timer")

    def __init__(self, sender: Player, rid: str, base: int, left: int) -> None:
        self.sender = sender
        self.rid = rid
        self.base = base
        self.left = left
        self.acked = False
        self.t0 = 0.0
        self.timer: asyncio.TimerHandle | None = None


class Game:
    """One game's players and its action schedule, driven by loop callbacks (no task)."""

    def __init__(self, index: int, stats: Stats, timeout_s: float) -> None:
        self.index = index
        self.stats = stats
        self.timeout_s = timeout_s
        self.players: list[Player] = []
        self.game_id = ""
        #: the newest state any of the game's sockets has seen: who is active in it
        self.seen_version = 0
        self.seen_active = 1
        self.inflight: Inflight | None = None
        self.actions = 0
        self.slots: list[float] = []
        self.next_slot = 0
        self.start = 0.0
        self.stop_at = 0.0
        self.on_done: Callable[[], None] = lambda: None

    # -- frames (called by the sockets) ---------------------------------------------------

    def on_state(self, player: Player, data: dict[str, Any], rid: str | None) -> None:
        version = data["version"]
        if version > player.version:
            player.version = version
        if version > self.seen_version:
            self.seen_version = version
            self.seen_active = data["activePlayer"] or 1
        inf = self.inflight
        # with one action in flight and nothing else changing the game, the first state
        # newer than the action's base is that action's
        if inf is None or version <= inf.base:
            return
        now = time.perf_counter()
        if player is inf.sender:
            if rid == inf.rid and not inf.acked:
                inf.acked = True
                self.stats.acked += 1
                self.stats.ack_ms.append((now - inf.t0) * 1000)
                self.stats.ack_at.append(inf.t0)
                if version != inf.base + 1:
                    self.stats.version_skew += 1
        elif player.awaiting:
            player.awaiting = False
            inf.left -= 1
            self.stats.fanout_ms.append((now - inf.t0) * 1000)
            self.stats.fanout_at.append(inf.t0)
        if inf.acked and inf.left == 0:
            self._finish()

    def on_error(self, player: Player, message: str, rid: str | None) -> None:
        inf = self.inflight
        if self.stats.measuring or (inf is not None and rid == inf.rid):
            self.stats.error_frames[message] += 1
        if inf is not None and player is inf.sender and rid == inf.rid:
            # refused: nothing was committed, so nobody is to see anything
            self._finish()

    # -- the action schedule --------------------------------------------------------------

    def begin(self, start: float, slots: list[float], stop_at: float, on_done: Callable[[], None]) -> None:
        """Pass the turn at each slot (seconds after `start`, loop clock), one action at a
        time: a slot that comes while the previous action is out waits for it."""
        self.start, self.slots, self.stop_at, self.on_done = start, slots, stop_at, on_done
        self.next_slot = 0
        self._arm()

    def _arm(self) -> None:
        if self.next_slot >= len(self.slots):
            self.on_done()
            return
        loop = asyncio.get_running_loop()
        due = self.start + self.slots[self.next_slot]
        if due <= loop.time():
            loop.call_soon(self._fire)
        else:
            loop.call_at(due, self._fire)

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        stats = self.stats
        now = loop.time()
        if now >= self.stop_at:
            stats.skipped += len(self.slots) - self.next_slot
            self.next_slot = len(self.slots)
            self.on_done()
            return
        stats.send_lag_ms.append(max(0.0, now - self.start - self.slots[self.next_slot]) * 1000)
        self.next_slot += 1
        sender = self.players[self.seen_active - 1]
        self.actions += 1
        rid = f"g{self.index}a{self.actions}"
        inf = Inflight(sender, rid, self.seen_version, len(self.players) - 1)
        for p in self.players:
            p.awaiting = p is not sender
        self.inflight = inf
        inf.timer = loop.call_later(self.timeout_s, self._expire)
        inf.t0 = time.perf_counter()
        try:
            sender.send("passTurn", rid)
        except Exception:
            stats.send_failures += 1
            self._finish()
            return
        stats.sent += 1

    def _finish(self) -> None:
        inf = self.inflight
        if inf is None:
            return
        self.inflight = None
        if inf.timer is not None:
            inf.timer.cancel()
        for p in self.players:
            p.awaiting = False
        if self.slots:
            self._arm()

    def _expire(self) -> None:
        inf = self.inflight
        if inf is None:
            return
        if not inf.acked:
            self.stats.ack_timeouts += 1
        self.stats.fanout_missing += sum(1 for p in self.players if p.awaiting)
        self._finish()


def schedule(rng: random.Random, rate: float, duration: float) -> list[float]:
    """round(duration x rate) send times for one game: evenly spaced from a random phase, each
    moved by up to 10 % of the period, so that games neither start together nor stay in step."""
    period = 1.0 / rate
    count = max(1, round(duration * rate))
    phase = rng.random()
    return [max(0.0, (k + phase + rng.uniform(-0.1, 0.1)) * period) for k in range(count)]


# -- one run ----------------------------------------------------------------------------------


@dataclass
class Config:
    games: int = 100
    players: int = 4
    rate: float = 0.5
    duration: float = 30.0
    instances: int = 2
    targets: list[str] = field(default_factory=list)
    target_pids: list[int] = field(default_factory=list)
    redis_pid: int | None = None
    aof: str = "always"
    #: "on": every per-address limit on, out of reach (stack.presets.out_of_reach_env); "off": all off
    limits: str = "on"
    tick_ms: int | None = None
    encoding: str = "json"
    #: "off": every socket connects with `?ticks=0`, as the web client does, and gets no ticks
    ticks: str = "on"
    ramp_concurrency: int = 32
    timeout_s: float = 5.0
    profile: bool = False
    profile_instance: int = 0
    artifacts: Path = Path("artifacts")
    seed: int | None = None
    #: CSV of every latency sample (kind, seconds into the window when sent, ms)
    samples: Path | None = None
    #: called with the stack, the run's counts and True as the measurement window opens, False
    #: as it closes: bench.capacity reads Redis's script count and the frames there
    on_window: Callable[[Stack, Stats, bool], None] | None = None


@dataclass
class ProcFigures:
    name: str
    pid: int
    cpu_s: float
    cpu_percent: float
    peak_rss_mb: float
    rss_mb: float


@dataclass
class Result:
    games: int
    players: int
    connections: int
    instances: int
    rate: float
    duration: float
    encoding: str
    #: whether the clients asked for ticks ("on") or connected with `?ticks=0` ("off")
    client_ticks: str
    aof: str
    #: "on", "off", or "n/a" (--target: the targets' own)
    limits: str
    #: the limit variables the instances ran with ({} with --target)
    limit_env: dict[str, str]
    tick_ms: int | None
    ramp_s: float
    window_s: float
    sent: int
    acked: int
    actions_per_s: float
    expected_actions: int
    ack: Dist
    fanout: Dist
    fanout_expected: int
    errors: int
    error_detail: dict[str, int]
    skipped: int
    version_skew: int
    send_lag: Dist
    loop_lag: Dist
    redis_ping: Dist
    health: dict[str, Dist]
    frames: int
    ticks: int
    version_gaps: int
    pubsub_messages: int
    processes: list[ProcFigures]
    #: CPU milliseconds of the instances and Redis per confirmed action
    cost_ms_per_action: float | None
    profile: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def write_samples(path: Path, stats: Stats, origin: float) -> None:
    """Every sample with the time its action left: shows whether slow ones come in bursts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["kind,sent_s,ms"]
    for kind, at, ms in (("ack", stats.ack_at, stats.ack_ms), ("fanout", stats.fanout_at, stats.fanout_ms)):
        rows += [f"{kind},{t - origin:.4f},{v:.3f}" for t, v in zip(at, ms, strict=True)]
    path.write_text("\n".join(rows) + "\n")


def with_ticks(ws_url: str, ticks: str) -> str:
    """The socket URL of a client that wants ticks ("on", the original's clients) or renders
    its clocks itself ("off": `?ticks=0`, as the web client)."""
    if ticks == "on":
        return ws_url
    return ws_url + ("&" if "?" in ws_url else "?") + "ticks=0"


def http_url(ws_url: str) -> str:
    return ws_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")


async def health_counters(session: aiohttp.ClientSession, urls: list[str]) -> tuple[int, int]:
    """(version gaps, pub/sub messages) summed over the instances' /health; zeros if unreadable."""
    gaps = messages = 0
    for url in urls:
        try:
            async with session.get(http_url(url) + "/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.json()
            gaps += int(body.get("versionGaps", 0))
            messages += int(body.get("pubsubMessages", 0))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            pass
    return gaps, messages


async def setup_game(game: Game, urls: list[str], config: Config, stats: Stats) -> bool:
    """Connect the game's players (player i on instance (game + i) mod N), create, seat, start."""
    try:
        game.players = [Player(game, seat, stats) for seat in range(1, config.players + 1)]
        await asyncio.gather(
            *(
                p.connect(with_ticks(urls[(game.index + p.seat - 1) % len(urls)], config.ticks), config.encoding)
                for p in game.players
            )
        )
        host = game.players[0]
        settings = {"playerCount": config.players, "initialTime": INITIAL_TIME_MS}
        frames = await host.request("create", f"g{game.index}c", {"settings": settings})
        created = [f for f in frames if f["type"] == "created"]
        if not created or frames[-1]["type"] != "state":
            raise RuntimeError(f"create failed: {frames[-1]}")
        game.game_id = created[0]["data"]["gameId"]

        async def take_seat(p: Player) -> None:
            if p is not host:
                reply = await p.request("join", f"g{game.index}j{p.seat}", {"gameId": game.game_id})
                if reply[-1]["type"] != "state":
                    raise RuntimeError(f"join failed: {reply[-1]}")
            reply = await p.request("claim", f"g{game.index}s{p.seat}", {"playerId": p.seat})
            if reply[-1]["type"] != "state":
                raise RuntimeError(f"claim failed: {reply[-1]}")

        await asyncio.gather(*(take_seat(p) for p in game.players))
        reply = await host.request("start", f"g{game.index}start")
        if reply[-1]["type"] != "state" or reply[-1]["data"]["status"] != "running":
            raise RuntimeError(f"start failed: {reply[-1]}")
        return True
    except Exception as exc:
        stats.setup_failures += 1
        if stats.setup_failures <= 3:
            print(f"  game {game.index}: setup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        await asyncio.gather(*(p.close() for p in game.players))
        game.players.clear()
        return False


async def watch_loop_lag(stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(0.05)
        stats.loop_lag_ms.append(max(0.0, loop.time() - t - 0.05) * 1000)


async def probe_redis(port: int, samples: list[float]) -> None:
    """PING round trips to Redis on a connection of its own, every 20 ms: when acks are slow,
    this tells whether Redis was (e.g. waiting on fsync) or the instances were."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            t = time.perf_counter()
            writer.write(b"PING\r\n")
            await reader.readline()
            samples.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)
    finally:
        writer.close()


async def probe_health(session: aiohttp.ClientSession, url: str, samples: list[float]) -> None:
    """GET /health every 100 ms: its answer waits for everything queued on the instance's
    event loop, so its latency is that loop's lag (plus a loopback round trip)."""
    timeout = aiohttp.ClientTimeout(total=10)
    while True:
        t = time.perf_counter()
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(http_url(url) + "/health", timeout=timeout) as r:
                await r.read()
            samples.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.1)


@dataclass
class Stack:
    """The processes a run drives: started here, or given with --target."""

    urls: list[str]
    watches: list[ProcWatch]
    names: list[str] = field(default_factory=list)
    redis: RedisProcess | None = None
    services: list[ServiceProcess] = field(default_factory=list)
    log_dir: Path | None = None

    def stop(self) -> None:
        for svc in self.services:
            with contextlib.suppress(Exception):
                svc.stop()
        if self.redis is not None:
            self.redis.close()


def limit_env(config: Config) -> dict[str, str]:
    """The limit variables the instances of `config`'s run start with."""
    if config.targets or config.limits == "off":
        return {}
    return out_of_reach_env(config.games, config.players, config.rate)


async def start_stack(config: Config, log_dir: Path) -> Stack:
    if config.targets:
        watches = [ProcWatch(f"target{i}", pid) for i, pid in enumerate(config.target_pids)]
        if config.redis_pid is not None:
            watches.append(ProcWatch("redis", config.redis_pid))
        names = [f"target{i}" for i in range(len(config.targets))]
        return Stack(urls=list(config.targets), watches=watches, names=names)
    aof = ("--appendonly", "no") if config.aof == "off" else ("--appendonly", "yes", "--appendfsync", config.aof)
    redis = await asyncio.to_thread(RedisProcess(*aof).start)
    stack = Stack(urls=[], watches=[], redis=redis, log_dir=log_dir)
    try:
        env = {"TAPOTARP_TEST_CLOCK": "0"}
        if config.tick_ms is not None:
            env["TICK_INTERVAL_MS"] = str(config.tick_ms)
        # ServiceProcess turns every per-address limit off (stack.presets.UNLIMITED_ENV); with
        # the limits on they are set out of reach, since all the benchmark's sockets come from
        # 127.0.0.1
        env.update(limit_env(config))
        stack.services = [ServiceProcess(redis.url, log_dir, f"inst{i}", **env) for i in range(config.instances)]
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in stack.services))
    except BaseException:
        stack.stop()
        raise
    stack.urls = [s.ws_url for s in stack.services]
    stack.names = [s.name for s in stack.services]
    stack.watches = [ProcWatch(s.name, s.pid) for s in stack.services] + [ProcWatch("redis", redis.pid)]
    return stack


async def start_profile(config: Config, stack: Stack, label: str) -> tuple[asyncio.subprocess.Process, Path] | None:
    """py-spy on one instance for the measurement window; None (and why, printed) if it cannot."""
    exe = py_spy()
    if exe is None:
        print("profile: py-spy not found; install it with `pip install -e '.[bench]'`", file=sys.stderr)
        return None
    instances = [w for w in stack.watches if w.name != "redis"]
    if not instances:
        print("profile: no instance pid to attach to (give --target-pids)", file=sys.stderr)
        return None
    why = await asyncio.to_thread(can_attach, exe)
    if why is not None:
        print(f"profile: py-spy cannot attach here ({why}); no profile", file=sys.stderr)
        return None
    target = instances[min(config.profile_instance, len(instances) - 1)]
    config.artifacts.mkdir(parents=True, exist_ok=True)
    out = config.artifacts / f"profile-{label}-{target.name}.txt"
    # --nonblocking: reading the target without stopping it, so the profile does not add to
    # the latencies it is measured alongside
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(target.pid),
        "--duration",
        str(max(1, int(config.duration))),
        "--rate",
        "100",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return proc, out


async def finish_profile(running: tuple[asyncio.subprocess.Process, Path], timeout_s: float) -> dict[str, Any] | None:
    proc, out = running
    try:
        async with asyncio.timeout(timeout_s):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        print("profile: py-spy did not finish in time", file=sys.stderr)
        return None
    if proc.returncode != 0 or not out.is_file():
        print(f"profile: py-spy failed: {err.decode(errors='replace').strip()[-300:]}", file=sys.stderr)
        return None
    summary = summarize_collapsed(out.read_text())
    text_path = out.with_suffix(".summary.txt")
    text_path.write_text("\n".join(summary.lines(15)) + "\n")
    return {"raw": str(out), "summary": str(text_path), "lines": summary.lines(8), **asdict(summary)}


async def run(config: Config) -> Result:
    stats = Stats()
    rng = random.Random(config.seed)
    log_dir = Path(tempfile.mkdtemp(prefix="load-"))
    stack = await start_stack(config, log_dir)
    label = f"{config.games}g"
    loop = asyncio.get_running_loop()
    games = [Game(i, stats, config.timeout_s) for i in range(config.games)]
    profile: dict[str, Any] | None = None
    try:
        # the game sockets do not use it: only the /health reads
        async with aiohttp.ClientSession() as session:
            ramp_started = loop.time()
            gate = asyncio.Semaphore(config.ramp_concurrency)

            async def gated(game: Game) -> bool:
                async with gate:
                    return await setup_game(game, stack.urls, config, stats)

            ok = await asyncio.gather(*(gated(g) for g in games))
            playing = [g for g, good in zip(games, ok, strict=True) if good]
            # every socket should hold its game's started state before the clock runs
            for _ in range(100):
                if all(p.version >= g.seen_version for g in playing for p in g.players):
                    break
                await asyncio.sleep(0.1)
            ramp_s = loop.time() - ramp_started
            print(
                f"  ramp-up: {sum(len(g.players) for g in playing)} sockets, {len(playing)} games running "
                f"in {ramp_s:.1f} s",
                file=sys.stderr,
            )
            await asyncio.sleep(1.0)

            gaps0, messages0 = await health_counters(session, stack.urls)
            profiler = await start_profile(config, stack, label) if config.profile else None
            # every game is armed before the first slot, so arming thousands of timers is not
            # charged to the first actions
            start = loop.time() + LEAD_IN_S
            stop_at = start + config.duration + config.timeout_s
            all_done: asyncio.Future[None] = loop.create_future()
            remaining = len(playing)

            def game_done() -> None:
                nonlocal remaining
                remaining -= 1
                if remaining == 0 and not all_done.done():
                    all_done.set_result(None)

            for g in playing:
                g.begin(start, schedule(rng, config.rate, config.duration), stop_at, game_done)
            if not playing:
                all_done.set_result(None)
            # The loadgen's garbage in the window is acyclic (parsed frames, freed by reference
            # counting); a collection would only stall it and show up as latency of the service.
            # What the ramp built is moved out of the collector's reach first.
            gc.collect()
            gc.freeze()
            gc.disable()
            await asyncio.sleep(start - loop.time())
            me = ProcWatch("loadgen", os.getpid())
            for w in (*stack.watches, me):
                w.begin()
            if config.on_window is not None:
                config.on_window(stack, stats, True)
            probes = [asyncio.create_task(watch_loop_lag(stats))]
            if stack.redis is not None:
                probes.append(asyncio.create_task(probe_redis(stack.redis.port, stats.redis_ping_ms)))
            for name, url in zip(stack.names, stack.urls, strict=True):
                probes.append(asyncio.create_task(probe_health(session, url, stats.health_ms.setdefault(name, []))))
            stats.measuring = True
            window_started = time.perf_counter()
            await all_done
            # the window is never shorter than the schedule it carries, so actions/s compares
            # with games x rate
            await asyncio.sleep(max(0.0, start + config.duration - loop.time()))
            window_s = loop.time() - start
            if config.samples is not None:
                write_samples(config.samples, stats, window_started)
            stats.measuring = False
            gc.enable()
            for w in (*stack.watches, me):
                w.end()
            if config.on_window is not None:
                config.on_window(stack, stats, False)
            for task in probes:
                task.cancel()
            await asyncio.gather(*probes, return_exceptions=True)
            gaps1, messages1 = await health_counters(session, stack.urls)
            if profiler is not None:
                profile = await finish_profile(profiler, config.duration + 30)
            await asyncio.gather(*(p.close() for g in games for p in g.players))
    finally:
        gc.enable()
        gc.unfreeze()
        await asyncio.to_thread(stack.stop)

    per_game = max(1, round(config.duration * config.rate))
    processes = [
        ProcFigures(
            w.name,
            w.pid,
            round(w.cpu_s, 3),
            round(100 * w.cpu_s / window_s, 1) if window_s else 0.0,
            round(w.peak_rss_kb / 1024, 1),
            round(w.rss_kb / 1024, 1),
        )
        for w in (*stack.watches, me)
    ]
    server_cpu = sum(w.cpu_s for w in stack.watches)
    detail: dict[str, int] = {
        **{f"error frame: {k}": v for k, v in stats.error_frames.items()},
        **{f"close: {k}": v for k, v in stats.closes.items()},
        "ack timeouts": stats.ack_timeouts,
        "fan-out missing": stats.fanout_missing,
        "send failures": stats.send_failures,
        "setup failures": stats.setup_failures,
    }
    return Result(
        games=config.games,
        players=config.players,
        connections=config.games * config.players,
        instances=len(stack.urls),
        rate=config.rate,
        duration=config.duration,
        encoding=config.encoding,
        client_ticks=config.ticks,
        aof=config.aof if not config.targets else "n/a",
        limits=config.limits if not config.targets else "n/a",
        limit_env=limit_env(config),
        tick_ms=config.tick_ms,
        ramp_s=round(ramp_s, 2),
        window_s=round(window_s, 3),
        sent=stats.sent,
        acked=stats.acked,
        actions_per_s=round(stats.acked / window_s, 1) if window_s else 0.0,
        expected_actions=per_game * config.games,
        ack=Dist.of(stats.ack_ms),
        fanout=Dist.of(stats.fanout_ms),
        fanout_expected=stats.acked * (config.players - 1),
        errors=stats.errors,
        error_detail={k: v for k, v in detail.items() if v},
        skipped=stats.skipped,
        version_skew=stats.version_skew,
        send_lag=Dist.of(stats.send_lag_ms),
        loop_lag=Dist.of(stats.loop_lag_ms),
        redis_ping=Dist.of(stats.redis_ping_ms),
        health={name: Dist.of(v) for name, v in stats.health_ms.items()},
        frames=stats.frames,
        ticks=stats.ticks,
        version_gaps=gaps1 - gaps0,
        pubsub_messages=messages1 - messages0,
        processes=processes,
        cost_ms_per_action=round(1000 * server_cpu / stats.acked, 3) if stats.acked and stack.watches else None,
        profile=profile,
    )


# -- report -----------------------------------------------------------------------------------


def report(r: Result) -> str:
    def dist(name: str, d: Dist) -> str:
        return f"  {name:<22} {d.n:>8} {d.p50:>8.2f} {d.p95:>8.2f} {d.p99:>8.2f} {d.max:>8.2f}"

    lines = [
        f"load: {r.games} games x {r.players} players = {r.connections} sockets on {r.instances} instances, "
        f"{r.rate:g} actions/s per game, {r.duration:g} s, {r.encoding}, AOF {r.aof}, "
        f"tick {r.tick_ms or 'default'} ms, limits {r.limits}, client ticks {r.client_ticks}",
        *(["  limits (out of reach): " + " ".join(f"{k}={v}" for k, v in r.limit_env.items())] if r.limit_env else []),
        f"  ramp-up {r.ramp_s:.1f} s; window {r.window_s:.1f} s; actions sent {r.sent}, confirmed {r.acked} "
        f"of {r.expected_actions} scheduled ({r.actions_per_s:.1f}/s), not sent in time {r.skipped}",
        f"  {'latency ms':<22} {'n':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
        dist("ack", r.ack),
        dist(f"fan-out (of {r.fanout_expected})", r.fanout),
        dist("send lag (schedule)", r.send_lag),
        dist("loadgen loop lag", r.loop_lag),
        *([dist("Redis PING", r.redis_ping)] if r.redis_ping.n else []),
        *(dist(f"{name} /health", d) for name, d in r.health.items()),
        f"  errors: {r.errors}" + (f" {r.error_detail}" if r.error_detail else ""),
        f"  frames received {r.frames} ({r.ticks} ticks); version gaps {r.version_gaps}; "
        f"pub/sub messages {r.pubsub_messages}; version skew {r.version_skew}",
        f"  {'process':<10} {'pid':>8} {'CPU s':>8} {'CPU %':>7} {'peak RSS MB':>12} {'RSS MB':>8}",
    ]
    lines += [
        f"  {p.name:<10} {p.pid:>8} {p.cpu_s:>8.2f} {p.cpu_percent:>7.1f} {p.peak_rss_mb:>12.1f} {p.rss_mb:>8.1f}"
        for p in r.processes
    ]
    if r.cost_ms_per_action is not None:
        lines.append(f"  cost: {r.cost_ms_per_action:.3f} CPU ms (instances + Redis) per confirmed action")
    if r.profile is not None:
        lines.append(f"  profile ({r.profile['raw']}):")
        lines += ["    " + line for line in r.profile["lines"]]
    return "\n".join(lines)


def summary_table(results: list[Result]) -> str:
    """One markdown row per run: the figures docs/benchmark.md's table is made of."""
    names = [p.name for p in results[0].processes] if results else []
    head = (
        "| games | limits | sockets | actions/s | ack p50/p95/p99/max ms | fan-out p50/p95/p99/max ms | errors | "
        + " | ".join(f"{n} CPU s / peak MB" for n in names)
        + " | CPU ms/action |"
    )
    rows = [head, "|" + "---|" * (8 + len(names))]
    for r in results:
        procs = {p.name: p for p in r.processes}
        cells = [
            str(r.games),
            r.limits,
            str(r.connections),
            f"{r.actions_per_s:.1f}",
            f"{r.ack.p50:.1f} / {r.ack.p95:.1f} / {r.ack.p99:.1f} / {r.ack.max:.1f}",
            f"{r.fanout.p50:.1f} / {r.fanout.p95:.1f} / {r.fanout.p99:.1f} / {r.fanout.max:.1f}",
            str(r.errors),
            *(f"{procs[n].cpu_s:.1f} / {procs[n].peak_rss_mb:.0f}" if n in procs else "-" for n in names),
            f"{r.cost_ms_per_action:.3f}" if r.cost_ms_per_action is not None else "-",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


# -- command line ------------------------------------------------------------------------------


def raise_open_files() -> int:
    """Lift the soft open-file limit to the hard one before anything starts: the instances and
    Redis inherit it, and each socket of the run is a descriptor on both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[Config]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--games", default="100", help="games at once; a comma list runs each in turn (default 100)")
    ap.add_argument("--players", type=int, default=4, help="players (sockets) per game, 2-8 (default 4)")
    ap.add_argument("--rate", type=float, default=0.5, help="actions per second per game (default 0.5)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of measurement (default 30)")
    ap.add_argument("--instances", type=int, default=2, help="service instances to start (default 2)")
    ap.add_argument("--target", default="", help="drive running instances instead: ws://host:port/[,...]")
    ap.add_argument("--target-pids", default="", help="with --target: their pids (same order) for CPU/RSS")
    ap.add_argument("--redis-pid", type=int, default=None, help="with --target: Redis's pid for CPU/RSS")
    ap.add_argument("--aof", choices=AOF_MODES, default="always", help="Redis persistence (default always)")
    ap.add_argument(
        "--limits",
        choices=LIMIT_MODES,
        default="on",
        help="per-address limits: on, out of reach of the run (default), or off",
    )
    ap.add_argument("--tick-ms", type=int, default=None, help="TICK_INTERVAL_MS of the instances (default: theirs)")
    ap.add_argument("--encoding", choices=("json", "msgpack"), default="json", help="frame encoding (default json)")
    ap.add_argument(
        "--ticks",
        choices=("on", "off"),
        default="on",
        help="on: clients get ticks (the original's); off: they connect with ?ticks=0, as the web client (default on)",
    )
    ap.add_argument("--ramp-concurrency", type=int, default=32, help="games being set up at once (default 32)")
    ap.add_argument("--timeout", type=float, default=5.0, help="ack / fan-out missing after this many s (5)")
    ap.add_argument("--profile", action="store_true", help="py-spy one instance during the window")
    ap.add_argument("--profile-instance", type=int, default=0, help="which instance to profile (default 0)")
    ap.add_argument("--artifacts", type=Path, default=Path("artifacts"), help="where profiles go")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    ap.add_argument("--seed", type=int, default=None, help="seed of the schedules' phases and jitter")
    ap.add_argument("--samples", type=Path, default=None, help="CSV of every latency sample (per run: -<G>g)")
    args = ap.parse_args(argv)
    try:
        counts = [int(x) for x in args.games.split(",") if x.strip()]
    except ValueError:
        ap.error("--games must be a number or a comma list of numbers")
    if not counts or any(not 1 <= g <= 20_000 for g in counts):
        ap.error("--games must be 1..20000")
    if not 2 <= args.players <= 8:
        ap.error("--players must be 2..8")
    if not 0 < args.rate <= 20:
        ap.error("--rate must be in (0, 20]")
    if not 0 < args.duration <= 3600:
        ap.error("--duration must be in (0, 3600]")
    if not 1 <= args.instances <= 16:
        ap.error("--instances must be 1..16")
    targets = [u.strip().replace("http://", "ws://", 1) for u in args.target.split(",") if u.strip()]
    if any(not t.startswith("ws://") for t in targets):
        ap.error("--target takes ws:// (or http://) URLs; TLS is not supported")
    pids = [int(p) for p in args.target_pids.split(",") if p.strip()]
    if pids and not targets:
        ap.error("--target-pids needs --target")
    configs = [
        Config(
            games=g,
            players=args.players,
            rate=args.rate,
            duration=args.duration,
            instances=args.instances,
            targets=targets,
            target_pids=pids,
            redis_pid=args.redis_pid,
            aof=args.aof,
            limits=args.limits,
            tick_ms=args.tick_ms,
            encoding=args.encoding,
            ticks=args.ticks,
            ramp_concurrency=args.ramp_concurrency,
            timeout_s=args.timeout,
            profile=args.profile,
            profile_instance=args.profile_instance,
            artifacts=args.artifacts,
            seed=args.seed,
            samples=None
            if args.samples is None
            else args.samples.with_name(f"{args.samples.stem}-{g}g{args.samples.suffix}"),
        )
        for g in counts
    ]
    return args, configs


async def main(args: argparse.Namespace, configs: list[Config]) -> int:
    results: list[Result] = []
    for config in configs:
        print(f"run: {config.games} games x {config.players} players", file=sys.stderr)
        result = await run(config)
        results.append(result)
        print(report(result), flush=True)
        print(flush=True)
    if len(results) > 1:
        print(summary_table(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": ["python", "-m", "bench.load", *sys.argv[1:]], "runs": [r.to_json() for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if any(r.errors for r in results) else 0


def cli() -> None:
    args, configs = parse_args()
    raise_open_files()
    sys.exit(asyncio.run(main(args, configs)))


if __name__ == "__main__":
    cli()
